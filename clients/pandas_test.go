package clients_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// frame is what fetch_pandas_all returned.
type frame struct {
	Columns []string         `json:"columns"`
	Dtypes  []string         `json:"dtypes"`
	Records []map[string]any `json:"records"`
}

func (st step) frame(t *testing.T) frame {
	t.Helper()
	var f frame
	if err := json.Unmarshal([]byte(st.value(t)), &f); err != nil {
		t.Fatalf("%s: %v", st.Step, err)
	}
	return f
}

// pandas runs pandas through the Python connector (testdata/pandas_client.py).
func pandas(t *testing.T, s *stack, as string, ops ...[]any) map[string]step {
	t.Helper()
	return scripted(t, s, as, "pandas_client.py", ops...)
}

// TestPandas reads DataFrames with cursor.fetch_pandas_all: rows with their
// types, PII masked for the agent and clear for the admin; a denied
// statement raises with the reason; a person's statement that needs
// approval is held until it is approved.
func TestPandas(t *testing.T) {
	s := startStack(t)
	const customers = "SELECT id, name, email, ssn FROM customers ORDER BY id LIMIT 3"
	const orders = "SELECT id, customer_id, amount FROM orders ORDER BY id LIMIT 5"
	agent := pandas(t, s, "agent", []any{"fetch", orders}, []any{"fetch", customers}, []any{"execute", "GRANT ROLE SYSADMIN TO USER mallory"})

	t.Run("rows", func(t *testing.T) {
		f := agent["fetch "+orders].frame(t)
		if fmt.Sprint(f.Columns) != "[ID CUSTOMER_ID AMOUNT]" || len(f.Records) != 5 || fmt.Sprint(f.Records[0]["ID"]) != "1" {
			t.Errorf("orders frame: %+v", f)
		}
		if f.Dtypes[0] != "int64" {
			t.Errorf("ID dtype %s, want int64", f.Dtypes[0])
		}
	})
	t.Run("masked for the agent", func(t *testing.T) {
		f := agent["fetch "+customers].frame(t)
		if len(f.Records) != 3 || f.Records[0]["NAME"] != customer1Name || f.Records[0]["EMAIL"] != customer1MaskedEmail || f.Records[0]["SSN"] != maskedSSN {
			t.Errorf("customers as the agent: %+v; want %s, %s, %s first", f.Records, customer1Name, customer1MaskedEmail, maskedSSN)
		}
	})
	t.Run("clear for the admin", func(t *testing.T) {
		f := pandas(t, s, "admin", []any{"fetch", customers})["fetch "+customers].frame(t)
		if len(f.Records) != 3 || f.Records[0]["EMAIL"] != customer1Email || f.Records[0]["SSN"] != customer1SSN {
			t.Errorf("customers as the admin: %+v; want %s, %s first", f.Records, customer1Email, customer1SSN)
		}
	})
	t.Run("denied", func(t *testing.T) {
		st := agent["execute GRANT ROLE SYSADMIN TO USER mallory"]
		if st.OK {
			t.Fatalf("GRANT ran: %s", st.Value)
		}
		for _, want := range []string{"003001", "GRANT is not allowed through the gateway", "decision "} {
			if !strings.Contains(st.Error, want) {
				t.Errorf("error %q lacks %q", st.Error, want)
			}
		}
	})
	t.Run("held, then approved", func(t *testing.T) {
		env, argv := scriptCmd(t, s, "analyst", "pandas_client.py", []any{"execute", "DELETE FROM orders"})
		p := start(t, 3*time.Minute, env, "", argv[0], argv[1:]...)
		req := s.awaitPending("DELETE FROM orders", time.Minute)
		if req.Requester.Subject != "u-1001" || req.Requester.Agent != "" {
			t.Errorf("request %s by %+v, want the analyst in person", req.ID, req.Requester)
		}
		time.Sleep(time.Second)
		if !p.running() {
			t.Fatalf("DELETE FROM orders ended before approval:\n%s", p.wait())
		}
		s.approve(req.ID, "reload")
		got := connected(t, "pandas_client.py", "analyst", p.wait())
		if v := got["execute DELETE FROM orders"].value(t); !strings.Contains(v, `"rowcount": 1000`) && !strings.Contains(v, `"rowcount":1000`) {
			t.Errorf("DELETE FROM orders after approval: %s, want rowcount 1000", v)
		}
	})
}
