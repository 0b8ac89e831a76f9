WITH "stage_0" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_0",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -30, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_1" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_1",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -31, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_2" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_2",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -32, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_3" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_3",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -33, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_4" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_4",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -34, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_5" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_5",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -35, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_6" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_6",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -36, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_7" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_7",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -37, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_8" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_8",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -38, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_9" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_9",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -39, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_10" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_10",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -40, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
),
"stage_11" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_11",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -41, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
)
SELECT s0.customer_id, c.email, COUNT(DISTINCT s0.order_id) AS orders, SUM(s0."amount_0") AS revenue
FROM "stage_0" s0 JOIN customers c ON c.id = s0.customer_id
JOIN "stage_11" s11 ON s11.customer_id = s0.customer_id
GROUP BY 1, 2 ORDER BY revenue DESC LIMIT 100