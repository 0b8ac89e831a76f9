package engine

import (
	"context"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// ConnectInput is the document the login decision is made on
// (input of data.snowgate.connect.decision).
type ConnectInput struct {
	Version  string   `json:"version"`
	Identity Identity `json:"identity"`
	// Session holds what the client asked for at login: database, schema,
	// warehouse, role, client application.
	Session Session `json:"session"`
	Request Request `json:"request"`
	// Usage is the caller's counts before this login (sessions open among
	// them); absent when the gateway keeps none.
	Usage *Usage `json:"usage,omitempty"`
}

// ConnectDecision says whether a login may proceed and what the upstream
// session may use.
type ConnectDecision struct {
	ID       string   `json:"id"`
	Revision string   `json:"revision"`
	Action   Action   `json:"action"` // allow or deny
	Reasons  []string `json:"reasons"`
	// Role is the upstream Snowflake role the session runs as.
	Role string `json:"role,omitempty"`
	// Warehouse is the upstream warehouse; empty keeps the client's choice.
	Warehouse string `json:"warehouse,omitempty"`
	// VaultRole names the Vault database role the credentials come from.
	VaultRole string `json:"vault_role,omitempty"`
}

// Connect evaluates data.snowgate.connect.decision. Like Decide it never
// fails: errors and anything but a well-formed allow with a role are denies.
func (e *Engine) Connect(ctx context.Context, in ConnectInput) ConnectDecision {
	id := e.id()
	p := e.active.Load()
	if p == nil {
		return ConnectDecision{ID: id, Action: ActionDeny, Reasons: []string{ReasonNoPolicy}}
	}
	deny := func(err error) ConnectDecision {
		d := e.failed(ctx, id, p.revision, "connect", err)
		return ConnectDecision{ID: id, Revision: p.revision, Action: ActionDeny, Reasons: d.Reasons}
	}
	if in.Version == "" {
		in.Version = InputVersion
	}
	if in.Version != InputVersion {
		return deny(malformed("%s %q", ReasonVersion, in.Version))
	}
	rs, err := e.eval(ctx, p, &p.connect, connectValue(&in))
	if err != nil {
		return deny(err)
	}
	d, err := decodeConnect(rs)
	if err != nil {
		return deny(err)
	}
	d.ID, d.Revision = id, p.revision
	return d
}

func connectValue(in *ConnectInput) ast.Value {
	items := []item{
		kv("version", str(in.Version)),
		kv("identity", identityValue(&in.Identity)),
		kv("session", sessionValue(&in.Session)),
		kv("request", obj(kv("id", str(in.Request.ID)), kv("time", timeValue(in.Request.Time)))),
	}
	if in.Usage != nil {
		items = append(items, kv("usage", usageValue(in.Usage)))
	}
	return obj(items...)
}

// decodeConnect is the one place a connect result becomes a
// ConnectDecision. An allow must name the upstream role.
func decodeConnect(rs rego.ResultSet) (ConnectDecision, error) {
	obj, err := single(rs)
	if err != nil {
		return ConnectDecision{}, err
	}
	var d ConnectDecision
	action, _ := obj["action"].(string)
	switch Action(action) {
	case ActionAllow, ActionDeny:
		d.Action = Action(action)
	default:
		return ConnectDecision{}, malformed("connect action %v is not allow or deny", obj["action"])
	}
	if d.Reasons, err = stringList(obj["reasons"], "reasons"); err != nil {
		return ConnectDecision{}, err
	}
	for field, dst := range map[string]*string{"role": &d.Role, "warehouse": &d.Warehouse, "vault_role": &d.VaultRole} {
		if v, ok := obj[field]; ok && v != nil {
			if *dst, ok = v.(string); !ok {
				return ConnectDecision{}, malformed("%s is a %T, not a string", field, v)
			}
		}
	}
	switch {
	case d.Action == ActionAllow && d.Role == "":
		return ConnectDecision{}, malformed("connect allow without a role")
	case d.Action == ActionDeny:
		d.Role, d.Warehouse, d.VaultRole = "", "", ""
		if len(d.Reasons) == 0 {
			d.Reasons = []string{"login denied by policy"}
		}
	}
	return d, nil
}
