package ogc

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/labstack/echo/v4"

	"gridmap/geo/demo"
	"gridmap/geo/store/storetest"
)

var pg *storetest.Cluster

func TestMain(m *testing.M) { os.Exit(storetest.Run(m, &pg)) }

// TestStreamedPageEqualsBuffered: a page larger than StreamAbove is streamed (no ETag) and
// holds exactly the features of the same page served whole.
func TestStreamedPageEqualsBuffered(t *testing.T) {
	st := pg.Store(t)
	c, err := demo.Generate(demo.Options{Households: 1500, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), st.Pool(), c); err != nil {
		t.Fatal(err)
	}
	serve := func(streamAbove int) *httptest.Server {
		e := echo.New()
		Register(e.Group("/ogc"), st.Pool(), Options{StreamAbove: streamAbove})
		ts := httptest.NewServer(e)
		t.Cleanup(ts.Close)
		return ts
	}
	type page struct {
		NumberMatched, NumberReturned int
		Features                      []json.RawMessage
		Links                         []struct{ Rel, Href string }
	}
	get := func(u string) (page, http.Header) {
		t.Helper()
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, res.StatusCode, b)
		}
		var p page
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: invalid JSON: %v", u, err)
		}
		return p, res.Header
	}
	whole, h1 := get(serve(0).URL + "/ogc/collections/households/items?limit=1000")
	streamed, h2 := get(serve(2000).URL + "/ogc/collections/households/items?limit=1000")
	if h1.Get("ETag") == "" || h2.Get("ETag") != "" {
		t.Fatalf("ETags: whole %q, streamed %q", h1.Get("ETag"), h2.Get("ETag"))
	}
	if whole.NumberReturned != 1000 || streamed.NumberReturned != 1000 || len(streamed.Features) != 1000 ||
		whole.NumberMatched != streamed.NumberMatched || len(streamed.Links) != 2 {
		t.Fatalf("whole %d/%d, streamed %d/%d links %v", whole.NumberReturned, whole.NumberMatched,
			streamed.NumberReturned, streamed.NumberMatched, streamed.Links)
	}
	for i := range whole.Features {
		if string(whole.Features[i]) != string(streamed.Features[i]) {
			t.Fatalf("feature %d differs:\n%s\n%s", i, whole.Features[i], streamed.Features[i])
		}
	}
}
