package devidp

// User is a demo identity of the dev issuer.
type User struct {
	Name     string   // the handle used by `snowgate token --as NAME`
	Subject  string   // the token's sub
	Email    string   // the token's email
	FullName string   // the token's name
	Groups   []string // the token's groups
	// Agent, when set, makes the token an RFC 8693 delegation: the human is the
	// subject and the agent is named in the act claim (and azp).
	Agent string
	// Claims are further claims of the token (e.g. what a row filter reads).
	Claims map[string]any
}

// Users are the demo identities, by handle.
var Users = map[string]User{
	"analyst": {
		Name: "analyst", Subject: "u-1001", Email: "ana.lyst@example.com", FullName: "Ana Lyst",
		Groups: []string{"analysts"}, Claims: map[string]any{"countries": []string{"DE", "FR"}},
	},
	"agent": {
		Name: "agent", Subject: "u-1001", Email: "ana.lyst@example.com", FullName: "Ana Lyst",
		Groups: []string{"analysts"}, Agent: "sql-agent", Claims: map[string]any{"countries": []string{"DE", "FR"}},
	},
	"approver": {
		Name: "approver", Subject: "u-2001", Email: "sam.approver@example.com", FullName: "Sam Approver",
		Groups: []string{"data-stewards", "approvers"},
	},
	"admin": {
		Name: "admin", Subject: "u-3001", Email: "ada.admin@example.com", FullName: "Ada Admin",
		Groups: []string{"platform-admins", "pii-readers"},
	},
	"engineer": {
		Name: "engineer", Subject: "u-4001", Email: "eng.ineer@example.com", FullName: "Eng Ineer",
		Groups: []string{"data-engineers"},
	},
	// dbt is a build tool's service identity: an engineer's access, held
	// to its own workspace (the default library's workspaces).
	"dbt": {
		Name: "dbt", Subject: "svc-dbt", Email: "dbt@example.com", FullName: "dbt (service)",
		Groups: []string{"data-engineers", "dbt-service"},
	},
}
