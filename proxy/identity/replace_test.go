package identity_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/identity"
)

// devIssuer serves a dev issuer on a loopback port.
func devIssuer(t *testing.T) *devidp.Issuer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	is, err := devidp.New(srv.URL, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = is.Handler()
	return is
}

func TestVerifier_Replace(t *testing.T) {
	ctx := context.Background()
	a, b := devIssuer(t), devIssuer(t)
	tokA, _ := a.Token("analyst")
	tokB, _ := b.Token("analyst")
	v, err := identity.New([]identity.Issuer{{URL: a.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("issuer a before the swap: %v", err)
	}
	if _, _, err := v.Verify(ctx, tokB); !errors.Is(err, identity.ErrIssuer) {
		t.Fatalf("issuer b before the swap: %v, want ErrIssuer", err)
	}

	t.Run("invalid set changes nothing", func(t *testing.T) {
		bad := []identity.Issuer{{URL: b.URL(), Audience: devidp.Audience, Algorithms: []string{"HS256"}}}
		if err := v.Replace(bad, 0); err == nil {
			t.Fatal("HS256 accepted")
		}
		if _, _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatalf("issuer a after a rejected swap: %v", err)
		}
	})

	if err := v.Replace([]identity.Issuer{{URL: b.URL(), Audience: devidp.Audience}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Verify(ctx, tokB); err != nil {
		t.Fatalf("issuer b after the swap: %v", err)
	}
	if _, _, err := v.Verify(ctx, tokA); !errors.Is(err, identity.ErrIssuer) {
		t.Fatalf("issuer a after the swap: %v, want ErrIssuer", err)
	}
	if err := v.Replace(nil, 0); err == nil {
		t.Fatal("an empty issuer list accepted")
	}
}
