{% macro grant_sysadmin(user) %}
  {% do run_query("GRANT ROLE SYSADMIN TO USER " ~ user) %}
{% endmacro %}
