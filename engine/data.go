package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/util"
)

// Data the gateway adds to the policy's own: documents that are not part of
// any bundle (e.g. the classifications derived objects inherit, at
// data.snowgate.inherited.classifications). They are written beside the
// active bundle's data and into every bundle activated later, so that a
// policy update never drops them.

// SetData puts value (any JSON-encodable document) at the slash-separated
// path under data, e.g. "snowgate/inherited/classifications", in the active
// policy and in every policy activated after it. A nil value removes it.
func (e *Engine) SetData(path string, value any) error {
	p, ok := storage.ParsePath("/" + strings.Trim(path, "/"))
	if !ok || len(p) == 0 {
		return fmt.Errorf("set data: bad path %q", path)
	}
	var doc any
	if value != nil {
		b, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("set data %s: %w", path, err)
		}
		if err := util.UnmarshalJSON(b, &doc); err != nil {
			return fmt.Errorf("set data %s: %w", path, err)
		}
	}
	e.dataMu.Lock()
	defer e.dataMu.Unlock()
	key := p.String()
	if e.data == nil {
		e.data = map[string]any{}
	}
	if value == nil {
		delete(e.data, key)
	} else {
		e.data[key] = doc
	}
	if pol := e.active.Load(); pol != nil {
		// No decision is evaluated while the data changes, and settle
		// drops what the old data fixed and the decisions taken on it.
		pol.mu.Lock()
		defer pol.mu.Unlock()
		err := writeData(context.Background(), pol, key, doc, value == nil)
		if serr := pol.settle(context.Background(), e.opts.Timeout); err == nil {
			err = serr
		}
		return err
	}
	return nil
}

// Data reads the document at the slash-separated path under data from the
// active policy (its bundle's data and what SetData added), decoded from
// JSON; found is false when there is none.
func (e *Engine) Data(ctx context.Context, path string) (value any, found bool, err error) {
	pol := e.active.Load()
	if pol == nil || pol.store == nil {
		return nil, false, nil
	}
	p, ok := storage.ParsePath("/" + strings.Trim(path, "/"))
	if !ok {
		return nil, false, fmt.Errorf("read data: bad path %q", path)
	}
	v, err := storage.ReadOne(ctx, pol.store, p)
	if storage.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read data %s: %w", path, err)
	}
	if av, ok := v.(ast.Value); ok {
		if v, err = ast.JSON(av); err != nil {
			return nil, false, fmt.Errorf("read data %s: %w", path, err)
		}
	}
	return v, true, nil
}

// applyData writes every document SetData holds into a policy that is
// about to become active. The caller holds dataMu.
func (e *Engine) applyData(ctx context.Context, pol *policy) error {
	keys := make([]string, 0, len(e.data))
	for k := range e.data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := writeData(ctx, pol, k, e.data[k], false); err != nil {
			return err
		}
	}
	return nil
}

func writeData(ctx context.Context, pol *policy, key string, doc any, remove bool) error {
	path, _ := storage.ParsePath(key)
	return storage.Txn(ctx, pol.store, storage.WriteParams, func(txn storage.Transaction) error {
		if remove {
			err := pol.store.Write(ctx, txn, storage.RemoveOp, path, nil)
			if storage.IsNotFound(err) {
				return nil
			}
			return err
		}
		if err := storage.MakeDir(ctx, pol.store, txn, path[:len(path)-1]); err != nil {
			return fmt.Errorf("set data %s: %w", key, err)
		}
		return pol.store.Write(ctx, txn, storage.AddOp, path, doc)
	})
}
