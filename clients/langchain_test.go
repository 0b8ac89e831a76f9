package clients_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// langchain runs LangChain's SQLDatabase (testdata/langchain_client.py).
func langchain(t *testing.T, s *stack, as string, ops ...[]any) map[string]step {
	t.Helper()
	return scripted(t, s, as, "langchain_client.py", ops...)
}

// TestLangChain runs LangChain's SQLDatabase (the toolkit SQL agents use)
// as the agent and the admin: table listing, table info with its sample
// rows, rows from run, PII masked for the agent and clear for the admin, a
// denial, and a statement that needs approval (a ticket for the agent),
// run once approved.
func TestLangChain(t *testing.T) {
	s := startStack(t)
	const customers = "SELECT name, email, ssn FROM customers ORDER BY id LIMIT 3"
	got := langchain(t, s, "agent",
		[]any{"tables"},
		[]any{"table_info", []string{"customers", "orders"}},
		[]any{"run", "SELECT count(*) FROM orders"},
		[]any{"run", customers},
		[]any{"run", "GRANT ROLE SYSADMIN TO USER mallory"},
		[]any{"run", "DELETE FROM orders"},
	)
	t.Run("tables", func(t *testing.T) {
		var tables []string
		st := got["tables"]
		st.value(t)
		_ = json.Unmarshal(st.Value, &tables)
		if fmt.Sprint(tables) != "[customers events orders]" {
			t.Errorf("get_usable_table_names = %v, want [customers events orders]", tables)
		}
	})
	t.Run("table info", func(t *testing.T) {
		info := got["table_info"].value(t)
		for _, want := range []string{"CREATE TABLE customers", "email", "ssn", "CREATE TABLE orders", "customer_id", customer1MaskedEmail} {
			if !strings.Contains(info, want) {
				t.Errorf("get_table_info lacks %q:\n%s", want, info)
			}
		}
		if strings.Contains(info, customer1Email) || strings.Contains(info, customer1SSN) {
			t.Errorf("get_table_info's sample rows show the agent clear PII:\n%s", info)
		}
	})
	t.Run("rows", func(t *testing.T) {
		if v := got["run SELECT count(*) FROM orders"].value(t); v != "[(1000,)]" {
			t.Errorf("count = %s, want [(1000,)]", v)
		}
	})
	t.Run("masked for the agent", func(t *testing.T) {
		want := fmt.Sprintf("('%s', '%s', '%s')", customer1Name, customer1MaskedEmail, maskedSSN)
		if v := got["run "+customers].value(t); !strings.HasPrefix(v, "["+want) {
			t.Errorf("run = %s, want it to start with [%s", v, want)
		}
	})
	t.Run("clear for the admin", func(t *testing.T) {
		admin := langchain(t, s, "admin", []any{"run", customers})
		want := fmt.Sprintf("('%s', '%s', '%s')", customer1Name, customer1Email, customer1SSN)
		if v := admin["run "+customers].value(t); !strings.HasPrefix(v, "["+want) {
			t.Errorf("run as the admin = %s, want it to start with [%s", v, want)
		}
	})
	t.Run("denied", func(t *testing.T) {
		st := got["run GRANT ROLE SYSADMIN TO USER mallory"]
		if st.OK {
			t.Fatalf("GRANT ran: %s", st.Value)
		}
		for _, want := range []string{"003001", "GRANT is not allowed through the gateway", "decision "} {
			if !strings.Contains(st.Error, want) {
				t.Errorf("error %q lacks %q", st.Error, want)
			}
		}
	})
	t.Run("ticket, then approved", func(t *testing.T) {
		st := got["run DELETE FROM orders"]
		if st.OK {
			t.Fatalf("DELETE FROM orders ran without approval: %s", st.Value)
		}
		req := s.awaitPending("DELETE FROM orders", 5*time.Second)
		for _, want := range []string{"003002", "request " + req.ID, s.page() + "#" + req.ID} {
			if !strings.Contains(st.Error, want) {
				t.Errorf("error %q lacks %q", st.Error, want)
			}
		}
		s.approve(req.ID, "reload")
		again := langchain(t, s, "agent", []any{"run", "DELETE FROM orders"}, []any{"run", "SELECT count(*) FROM orders"})
		again["run DELETE FROM orders"].value(t)
		if v := again["run SELECT count(*) FROM orders"].value(t); v != "[(0,)]" {
			t.Errorf("orders after the approved DELETE: %s", v)
		}
	})
}
