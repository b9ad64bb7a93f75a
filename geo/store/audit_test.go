package store_test

import (
	"context"
	"testing"

	"gridmap/geo/store"
)

// A request's pending audit entry is recorded by the organisation write in its own
// transaction: with the write when it commits, not at all when it fails.
func TestPendingAuditCommitsWithTheWrite(t *testing.T) {
	st := pg.Store(t)
	pool := st.Pool()
	mustExec(t, pool, county, township, village)
	ctx := store.WithActor(context.Background(), "user:li")
	count := func() (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE entity = 'person'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	bad := &store.PendingAudit{Entry: store.AuditEntry{Action: "POST /api/v1/people", Entity: "person", Unit: "999001001001"}}
	if _, err := st.CreatePerson(store.WithPendingAudit(ctx, bad), store.PersonInput{
		Unit: store.Set("999001001009"), Name: store.Set("李四")}); err == nil {
		t.Fatal("a person in a unit that does not exist was created")
	}
	if bad.Written || count() != 0 {
		t.Fatalf("a failed write left an audit entry (written %v, %d entries)", bad.Written, count())
	}

	good := &store.PendingAudit{Entry: store.AuditEntry{Action: "POST /api/v1/people", Entity: "person", Unit: "999001001001"}}
	if _, err := st.CreatePerson(store.WithPendingAudit(ctx, good), store.PersonInput{
		Unit: store.Set("999001001001"), Name: store.Set("李四")}); err != nil {
		t.Fatal(err)
	}
	if !good.Written || count() != 1 {
		t.Fatalf("the write's audit entry: written %v, %d entries", good.Written, count())
	}
	var actor string
	if err := pool.QueryRow(ctx, `SELECT actor FROM audit_log WHERE entity = 'person'`).Scan(&actor); err != nil || actor != "user:li" {
		t.Fatalf("actor %q %v", actor, err)
	}
}
