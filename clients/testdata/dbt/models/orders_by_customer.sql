{{ config(materialized='table') }}
select customer_id, count(*) as orders, sum(amount) as total
from {{ ref('orders_view') }}
group by customer_id
