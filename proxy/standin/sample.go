package standin

// sampleSQL loads a small, deterministic, realistic sample: customers with
// personal data, their orders, and product events with VARIANT payloads.
var sampleSQL = []string{
	`CREATE SCHEMA IF NOT EXISTS DEMO.PUBLIC`,
	`CREATE TABLE DEMO.PUBLIC.CUSTOMERS (
		ID BIGINT PRIMARY KEY, NAME VARCHAR, EMAIL VARCHAR, PHONE VARCHAR, SSN VARCHAR,
		CITY VARCHAR, COUNTRY VARCHAR, SEGMENT VARCHAR, LIFETIME_VALUE DECIMAL(12,2), CREATED_AT TIMESTAMP)`,
	`INSERT INTO DEMO.PUBLIC.CUSTOMERS
	 SELECT i,
	   ['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Margaret','Niklaus'][1 + i % 10] || ' ' ||
	   ['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson','Hamilton','Wirth'][1 + (i * 7) % 10],
	   lower(['ada','grace','alan','edsger','barbara','donald','frances','ken','margaret','niklaus'][1 + i % 10]) || '.' || i::VARCHAR || '@' || ['example.com','mail.test','corp.example'][1 + i % 3],
	   '+1-555-' || lpad(((i * 7919) % 10000)::VARCHAR, 4, '0'),
	   lpad(((i * 104729) % 900 + 100)::VARCHAR, 3, '0') || '-' || lpad(((i * 31) % 90 + 10)::VARCHAR, 2, '0') || '-' || lpad(((i * 7) % 9000 + 1000)::VARCHAR, 4, '0'),
	   ['Berlin','Lisbon','Austin','Nairobi','Osaka','Toronto','Lyon','Bogotá'][1 + i % 8],
	   ['DE','PT','US','KE','JP','CA','FR','CO'][1 + i % 8],
	   ['enterprise','smb','consumer'][1 + i % 3],
	   ((i * 3779) % 500000) / 100.0,
	   TIMESTAMP '2023-01-01 00:00:00' + INTERVAL (i * 97) MINUTE
	 FROM range(1, 201) t(i)`,
	`CREATE TABLE DEMO.PUBLIC.ORDERS (
		ID BIGINT PRIMARY KEY, CUSTOMER_ID BIGINT, AMOUNT DECIMAL(12,2), CURRENCY VARCHAR, STATUS VARCHAR, ORDERED_AT TIMESTAMP)`,
	`INSERT INTO DEMO.PUBLIC.ORDERS
	 SELECT i, 1 + (i * 13) % 200, ((i * 7907) % 100000) / 100.0, ['EUR','USD','JPY'][1 + i % 3],
	   ['shipped','pending','cancelled','returned'][1 + (i * 3) % 4],
	   TIMESTAMP '2024-01-01 08:00:00' + INTERVAL (i * 131) MINUTE
	 FROM range(1, 1001) t(i)`,
	`CREATE TABLE DEMO.PUBLIC.EVENTS (
		ID BIGINT PRIMARY KEY, CUSTOMER_ID BIGINT, EVENT_TYPE VARCHAR, PAYLOAD JSON, OCCURRED_AT TIMESTAMP)`,
	`INSERT INTO DEMO.PUBLIC.EVENTS
	 SELECT i, 1 + (i * 17) % 200, ['page_view','add_to_cart','checkout','support_ticket'][1 + i % 4],
	   json_object('page', ['/home','/pricing','/cart','/help'][1 + i % 4], 'device', ['ios','android','web'][1 + i % 3],
	               'items', json_array(i % 5, (i * 3) % 7), 'session', 's-' || (i % 50)::VARCHAR),
	   TIMESTAMP '2024-03-01 00:00:00' + INTERVAL (i * 41) MINUTE
	 FROM range(1, 2001) t(i)`,
}
