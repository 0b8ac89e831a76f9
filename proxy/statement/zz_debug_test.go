package statement

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

func TestDebugAgent(t *testing.T) {
	qs := []string{
		`SELECT DATE_TRUNC('month', o.created_at)::date AS month, c.region, COUNT(DISTINCT o.customer_id) AS customers, SUM(o.amount) AS revenue, AVG(o.amount) AS aov FROM analytics.sales.orders o INNER JOIN analytics.public.customers c ON o.customer_id = c.id WHERE o.created_at >= DATEADD(month, -12, DATE_TRUNC('month', CURRENT_DATE())) AND o.status <> 'cancelled' GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT t.value:id::int AS id, t.value:name::varchar AS name FROM raw.api.responses r, TABLE(FLATTEN(input => PARSE_JSON(r.body):data)) t`,
		`SELECT user_id, ARRAY_AGG(event_type) WITHIN GROUP (ORDER BY ts) AS path FROM events GROUP BY user_id HAVING ARRAY_SIZE(path) > 3`,
		`SELECT * FROM events WHERE ts BETWEEN '2024-01-01' AND '2024-02-01' AND properties:country::string = 'US' ORDER BY ts DESC LIMIT 1000`,
		`SELECT IFNULL(c.email, 'n/a') AS email, NVL2(c.ssn, 'has', 'none') AS flag, ZEROIFNULL(o.amount) AS amt FROM customers c LEFT OUTER JOIN sales.orders o ON c.id = o.customer_id`,
		`SELECT c.region, APPROX_COUNT_DISTINCT(c.id) AS approx, HLL(c.id) AS h, MEDIAN(o.amount) AS med, STDDEV(o.amount) AS sd FROM customers c JOIN sales.orders o ON o.customer_id = c.id GROUP BY c.region`,
		`WITH daily AS (SELECT ts::date AS d, COUNT(*) AS n FROM events GROUP BY 1) SELECT d, n, AVG(n) OVER (ORDER BY d ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS ma7, n - LAG(n, 7) OVER (ORDER BY d) AS wow FROM daily ORDER BY d`,
		`SELECT REGEXP_SUBSTR(email, '@(.*)$', 1, 1, 'e', 1) AS domain, SPLIT_PART(email, '@', 2) AS d2, CONTAINS(email, 'gmail') AS g FROM customers`,
		`SELECT TO_CHAR(created_at, 'YYYY-MM-DD HH24:MI') AS t, CONVERT_TIMEZONE('UTC', 'America/New_York', created_at) AS ny, created_at::timestamp_ntz AS ntz FROM customers`,
		`SELECT o.*, c.email FROM sales.orders o JOIN customers c ON c.id = o.customer_id WHERE o.amount > (SELECT AVG(amount) FROM sales.orders)`,
		`SELECT "customer_id", "total" FROM (SELECT customer_id AS "customer_id", SUM(amount) AS "total" FROM sales.orders GROUP BY 1) WHERE "total" > 1000`,
		`SELECT GET(payload, 'items') AS items, payload['shipping']['city']::string AS city, ARRAY_SIZE(payload:items) AS n FROM sales.orders`,
		`SELECT OBJECT_CONSTRUCT('id', id, 'email', email) AS o, TO_JSON(OBJECT_CONSTRUCT(*)) AS j FROM customers LIMIT 5`,
		`SELECT DISTINCT region FROM customers`,
		`SELECT COUNT(*) FROM customers WHERE email LIKE ANY ('%@gmail.com', '%@yahoo.com')`,
		`SELECT id, UNIFORM(1, 100, RANDOM()) AS r, UUID_STRING() AS u, SEQ4() AS s FROM customers`,
		`SELECT date_col, SUM(x) FROM TABLE(GENERATOR(ROWCOUNT => 10)) g, LATERAL (SELECT 1 AS x, CURRENT_DATE AS date_col) GROUP BY 1`,
		`SELECT e.name, d.dept_name, e.salary, e.salary / SUM(e.salary) OVER (PARTITION BY e.dept_id) AS share FROM hr.employees e JOIN hr.departments d ON d.dept_id = e.dept_id WHERE e.salary IS NOT NULL AND d.dept_name IN ('Eng', 'Sales') ORDER BY share DESC NULLS LAST`,
		`SELECT TRIM(email) AS e, LOWER(email) AS l, SUBSTR(ssn, -4) AS last4, LPAD(id::string, 10, '0') AS padded FROM customers`,
		`SELECT CASE region WHEN 'EU' THEN 1 WHEN 'US' THEN 2 ELSE 0 END AS r, DECODE(region, 'EU', 'Europe', 'Other') AS n FROM customers`,
		`SELECT id FROM customers WHERE created_at > CURRENT_TIMESTAMP - INTERVAL '7 days'`,
		`SELECT SUM(amount) FILTER (WHERE status = 'open') FROM sales.orders`,
		`SELECT c.id, x.value FROM customers c, LATERAL SPLIT_TO_TABLE(c.email, '@') x`,
		`SELECT TRY_TO_NUMBER(ssn) AS n, TRY_TO_DATE(created_at::string) AS d, POSITION('@' IN email) AS p FROM customers`,
		`SELECT id, email FROM customers ORDER BY RANDOM() LIMIT 10 OFFSET 20`,
		`SELECT region, COUNT(*) FROM customers GROUP BY ROLLUP (region)`,
		`SELECT a.id FROM customers a, customers b WHERE a.id = b.id + 1`,
		`SELECT id, email FROM analytics.public.customers WHERE id NOT IN (SELECT customer_id FROM sales.orders WHERE customer_id IS NOT NULL) AND region ILIKE 'eu%'`,
		`SELECT * FROM sales.orders WHERE payload:items[0]:sku::string = 'A1'`,
		`SELECT iff(amount > 0, 'pos', 'neg') AS sign, amount::float / nullif(100, 0) AS pct FROM sales.orders`,
	}
	_, cat := loadCorpus(t)
	for _, q := range qs {
		sts, err := Analyze(context.Background(), q, Env{Database: "ANALYTICS", Schema: "PUBLIC", Catalog: cat})
		if err != nil {
			fmt.Println("ERR", err)
			continue
		}
		s := sts[0]
		if !s.Parse.Complete {
			fmt.Printf("INC %s\n    %s\n", q, s.Parse.Error)
			continue
		}
		var outs, objs []string
		for _, o := range s.Outputs {
			outs = append(outs, outputString(o))
		}
		for _, o := range s.Objects {
			objs = append(objs, objectString(o))
		}
		b, _ := json.Marshal(outs)
		ob, _ := json.Marshal(objs)
		fl, _ := json.Marshal(flagNames(s.Flags))
		qj, _ := json.Marshal(q)
		fmt.Printf("YAML- sql: %s\nYAML  kind: %s\nYAML  objects: %s\nYAML  flags: %s\nYAML  outputs: %s\n", qj, s.Kind, ob, fl, b)
	}
}
