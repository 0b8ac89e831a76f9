package standin

// sampleSQL loads a small, deterministic, realistic sample: customers with
// personal data, their orders, and product events with VARIANT payloads.
var sampleSQL = []string{
	`CREATE SCHEMA IF NOT EXISTS DEMO.PUBLIC`,
	`CREATE TABLE DEMO.PUBLIC.CUSTOMERS (
		ID BIGINT PRIMARY KEY, NAME VARCHAR, EMAIL VARCHAR, PHONE VARCHAR, SSN VARCHAR,
		CITY VARCHAR, COUNTRY VARCHAR, SEGMENT VARCHAR, LIFETIME_VALUE DECIMAL(12,2), CREATED_AT TIMESTAMP)`,
	// Personal data that the masks must not give away: an address's
	// local part follows one of several habits (not always the name) with
	// digits of its own, phones and SSNs share no pattern with the id, so
	// what email_domain and partial leave visible, with the clear columns,
	// does not rebuild the value. hash() keeps the sample the same on
	// every start.
	`INSERT INTO DEMO.PUBLIC.CUSTOMERS
	 SELECT i, first || ' ' || last,
	   lower(CASE (hash(i, 'habit') % 6)::BIGINT
	     WHEN 0 THEN first || '.' || last
	     WHEN 1 THEN left(first, 1) || last || ((hash(i, 'n') % 100)::BIGINT)::VARCHAR
	     WHEN 2 THEN first || ((hash(i, 'n') % 10000)::BIGINT)::VARCHAR
	     WHEN 3 THEN first || '_' || left(last, 1) || (1950 + (hash(i, 'n') % 56)::BIGINT)::VARCHAR
	     WHEN 4 THEN ['sunny','orbit','maple','pixel','river','nova','kite','echo','lumen','quartz'][1 + (hash(i, 'w') % 10)::BIGINT] || ((hash(i, 'n') % 100000)::BIGINT)::VARCHAR
	     ELSE last || '.' || left(first, 1) || ((hash(i, 'n') % 1000)::BIGINT)::VARCHAR END)
	   || '@' || ['gmail.com','outlook.com','yahoo.com','proton.me','icloud.com','fastmail.com','hey.com','example.org','corp.example'][1 + (hash(i, 'domain') % 9)::BIGINT],
	   '+1-' || (200 + (hash(i, 'area') % 800)::BIGINT)::VARCHAR || '-' || (200 + (hash(i, 'exchange') % 800)::BIGINT)::VARCHAR || '-' || lpad(((hash(i, 'line') % 10000)::BIGINT)::VARCHAR, 4, '0'),
	   lpad((1 + (hash(i, 'ssn-area') % 899)::BIGINT)::VARCHAR, 3, '0') || '-' || lpad((1 + (hash(i, 'ssn-group') % 99)::BIGINT)::VARCHAR, 2, '0') || '-' || lpad((1 + (hash(i, 'ssn-serial') % 9999)::BIGINT)::VARCHAR, 4, '0'),
	   ['Berlin','Lisbon','Austin','Nairobi','Osaka','Toronto','Lyon','Bogotá'][1 + i % 8],
	   ['DE','PT','US','KE','JP','CA','FR','CO'][1 + i % 8],
	   ['enterprise','smb','consumer'][1 + i % 3],
	   ((i * 3779) % 500000) / 100.0,
	   TIMESTAMP '2023-01-01 00:00:00' + INTERVAL (i * 97) MINUTE
	 FROM (SELECT i,
	   ['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Margaret','Niklaus','Radia','Tim','Shafi','Leslie','Fran','Hedy'][1 + (hash(i, 'first') % 16)::BIGINT] AS first,
	   ['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson','Hamilton','Wirth','Perlman','Berners','Goldwasser','Lamport','Bilas'][1 + (hash(i, 'last') % 15)::BIGINT] AS last
	   FROM range(1, 201) t(i))`,
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
