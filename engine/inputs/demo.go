package inputs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/devidp"
)

// DemoIssuer is the issuer demo identities carry.
const DemoIssuer = "http://127.0.0.1/dev-issuer"

// Demo returns the identity of a demo user of `snowgate dev` (analyst,
// agent, approver, admin, engineer) as the gateway would build it from the
// user's token.
func Demo(name string) (engine.Identity, error) {
	u, ok := devidp.Users[name]
	if !ok {
		return engine.Identity{}, fmt.Errorf("unknown demo identity %q (have %s)", name, strings.Join(DemoNames(), ", "))
	}
	groups := slices.Clone(u.Groups)
	claims := map[string]any{"sub": u.Subject, "email": u.Email, "name": u.FullName, "iss": DemoIssuer, "groups": toAny(groups)}
	id := engine.Identity{Subject: u.Subject, Email: u.Email, Name: u.FullName, Issuer: DemoIssuer, Groups: groups, Claims: claims}
	if u.Agent != "" {
		id.Agent = &engine.Agent{ID: u.Agent, Source: engine.AgentSourceAct}
		claims["act"] = map[string]any{"sub": u.Agent}
		claims["azp"] = u.Agent
	}
	return id, nil
}

// DemoNames lists the demo identities, sorted.
func DemoNames() []string { return slices.Sorted(maps.Keys(devidp.Users)) }

// ReadIdentity decodes an identity document (the JSON of input.identity).
func ReadIdentity(r io.Reader) (engine.Identity, error) {
	var id engine.Identity
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&id); err != nil {
		return engine.Identity{}, fmt.Errorf("read identity: %w", err)
	}
	if id.Subject == "" {
		return engine.Identity{}, fmt.Errorf("read identity: no subject")
	}
	return id, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// demoCatalog knows the columns of the `snowgate dev` sample data
// (proxy/standin).
type demoCatalog map[string][]string

// DemoCatalog is the catalog of the `snowgate dev` sample data.
var DemoCatalog = demoCatalog{
	"DEMO.PUBLIC.CUSTOMERS": {"ID", "NAME", "EMAIL", "PHONE", "SSN", "CITY", "COUNTRY", "SEGMENT", "LIFETIME_VALUE", "CREATED_AT"},
	"DEMO.PUBLIC.ORDERS":    {"ID", "CUSTOMER_ID", "AMOUNT", "CURRENCY", "STATUS", "ORDERED_AT"},
	"DEMO.PUBLIC.EVENTS":    {"ID", "CUSTOMER_ID", "EVENT_TYPE", "PAYLOAD", "OCCURRED_AT"},
}

func (c demoCatalog) Columns(_ context.Context, database, schema, table string) ([]string, error) {
	cols, ok := c[database+"."+schema+"."+table]
	if !ok {
		return nil, fmt.Errorf("catalog: no table %s.%s.%s", database, schema, table)
	}
	return slices.Clone(cols), nil
}
