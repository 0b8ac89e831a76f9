// Drives snowgate with the real Snowflake JDBC driver (Maven Central).
// Run by proxy/clients_test.go as a single-file program:
//   java -cp snowflake-jdbc.jar JdbcClient.java
// with SNOWGATE_HOST, SNOWGATE_PORT and SNOWGATE_TOKEN set.
import java.math.BigDecimal;
import java.sql.*;
import java.util.Objects;
import java.util.Properties;

public class JdbcClient {
  static void check(String name, Object got, Object want) {
    if (!Objects.equals(got, want)) {
      System.out.println("FAIL " + name + ": got " + got + ", want " + want);
      System.exit(1);
    }
    System.out.println("ok " + name);
  }

  public static void main(String[] args) throws Exception {
    String url = "jdbc:snowflake://" + System.getenv("SNOWGATE_HOST") + ":" + System.getenv("SNOWGATE_PORT")
        + "/?ssl=off&account=snowgate&db=DEMO&schema=PUBLIC";
    Properties p = new Properties();
    p.put("authenticator", "oauth");
    p.put("token", System.getenv("SNOWGATE_TOKEN"));
    String format = System.getenv("SNOWGATE_JDBC_FORMAT"); // ARROW (Snowflake's default for JDBC) or JSON
    if (format != null && !format.isEmpty()) {
      p.put("JDBC_QUERY_RESULT_FORMAT", format);
    }
    try (Connection c = DriverManager.getConnection(url, p); Statement s = c.createStatement()) {
      ResultSet r = s.executeQuery("SELECT 42::NUMBER(38,0) AS i, 12345678901234567890.123456789::NUMBER(38,9) AS big, "
          + "-1.5::FLOAT AS f, 'héllo' AS t, true AS b, '2024-02-29'::DATE AS d, "
          + "'2024-02-29 13:14:15.123'::TIMESTAMP_NTZ AS ntz, from_hex('DEADBEEF') AS bin, NULL::VARCHAR AS n");
      r.next();
      check("fixed", r.getLong("I"), 42L);
      check("fixed(38,9)", r.getBigDecimal("BIG"), new BigDecimal("12345678901234567890.123456789"));
      check("real", r.getDouble("F"), -1.5);
      check("text", r.getString("T"), "héllo");
      check("boolean", r.getBoolean("B"), true);
      check("date", r.getDate("D").toString(), "2024-02-29");
      check("timestamp_ntz", r.getTimestamp("NTZ").toLocalDateTime().toString(), "2024-02-29T13:14:15.123");
      check("binary", new java.math.BigInteger(1, r.getBytes("BIN")).toString(16).toUpperCase(), "DEADBEEF");
      r.getString("N");
      check("null", r.wasNull(), true);

      r = s.executeQuery("SELECT '13:14:15.123456'::TIME AS tm, '2024-02-29 13:14:15.5+00'::TIMESTAMP_LTZ AS ltz, "
          + "'2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ AS tz, -7.25::NUMBER(10,2) AS small, PARSE_JSON('{\"a\":1}') AS v");
      r.next();
      check("time", r.getTime("TM").toString(), "13:14:15");
      check("timestamp_ltz", r.getTimestamp("LTZ").toInstant().toString(), "2024-02-29T13:14:15.500Z");
      check("timestamp_tz", r.getTimestamp("TZ").toInstant().toString(), "2024-02-29T11:14:15Z");
      check("fixed(10,2)", r.getBigDecimal("SMALL"), new BigDecimal("-7.25"));
      check("variant", r.getString("V").replaceAll("\\s", ""), "{\"a\":1}");

      r = s.executeQuery("SELECT range AS id, 'customer-' || range::VARCHAR AS name FROM range(200000) ORDER BY id");
      long n = 0, sum = 0;
      String last = null;
      while (r.next()) {
        n++;
        sum += r.getLong(1);
        last = r.getString(2);
      }
      check("large result rows", n, 200000L);
      check("large result sum", sum, 199999L * 200000L / 2);
      check("large result last", last, "customer-199999");

      s.execute("CREATE TABLE jdbc_scratch (id INT, note VARCHAR)");
      check("insert count", s.executeUpdate("INSERT INTO jdbc_scratch VALUES (1, 'a'), (2, 'b'), (3, 'c')"), 3);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_scratch VALUES (?, ?)")) {
        ps.setInt(1, 4);
        ps.setString(2, "bound");
        check("bound insert count", ps.executeUpdate(), 1);
      }
      check("update count", s.executeUpdate("UPDATE jdbc_scratch SET note = 'x' WHERE id > 1"), 3);
      check("delete count", s.executeUpdate("DELETE FROM jdbc_scratch WHERE id = 1"), 1);

      try {
        s.executeQuery("SELECT * FROM no_such_table");
        check("missing table raises", false, true);
      } catch (SQLException e) {
        check("missing table code and sqlstate", e.getErrorCode() + " " + e.getSQLState(), "2003 42S02");
      }
    }
    System.out.println("jdbc client: all checks passed");
  }
}
