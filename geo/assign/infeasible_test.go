package assign

import (
	"errors"
	"testing"
)

func TestFeasible(t *testing.T) {
	cases := []struct {
		clients, servers, min, max int
		ok                         bool
		msg                        string
	}{
		{100, 7, 10, 15, true, ""},
		{100, 10, 10, 15, true, ""},
		{100, 6, 10, 15, false, "assign: infeasible: 100 clients, 6 servers with max 15 take at most 90; need at least 7 servers"},
		{100, 11, 10, 15, false, "assign: infeasible: 100 clients, 11 servers with min 10 need at least 110; at most 10 servers"},
		{45, 3, CentralMin, NoMax, true, ""},
		{44, 3, CentralMin, NoMax, false, "assign: infeasible: 44 clients, 3 servers with min 15 need at least 45; at most 2 servers"},
		{0, 0, 10, 15, true, ""},
		{1, 0, 0, NoMax, false, "assign: infeasible: 1 clients and no servers"},
	}
	for _, tc := range cases {
		err := feasible(tc.clients, tc.servers, tc.min, tc.max)
		if tc.ok {
			if err != nil {
				t.Errorf("%+v: %v", tc, err)
			}
			continue
		}
		if !errors.Is(err, ErrInfeasible) || err.Error() != tc.msg {
			t.Errorf("%+v:\n got %v\nwant %s", tc, err, tc.msg)
		}
	}
}
