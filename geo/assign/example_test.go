package assign_test

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"

	"gridmap/geo/assign"
)

// along returns the point d metres north of 116°E 30°N.
func along(d float64) orb.Point {
	return orb.Point{116, 30 + d/(6371008.8*math.Pi/180)}
}

func ExampleSolve() {
	// Two party members, at 0 m and 100 m along a village street, each
	// looking after 2–3 households; five households along the street.
	p := assign.Problem{
		Clients: []orb.Point{along(40), along(10), along(20), along(30), along(60)},
		Servers: []orb.Point{along(0), along(100)},
		Min:     2,
		Max:     3,
	}
	opt, err := assign.Solve(context.Background(), p)
	if err != nil {
		panic(err)
	}
	greedy, _ := assign.Greedy(p)
	fmt.Printf("optimal %v loads %v total %.0f m\n", opt.ServerOf, opt.Loads, opt.Total)
	fmt.Printf("greedy  %v loads %v total %.0f m\n", greedy.ServerOf, greedy.Loads, greedy.Total)
	// Output:
	// optimal [1 0 0 0 1] loads [3 2] total 160 m
	// greedy  [0 0 0 1 1] loads [3 2] total 180 m
}

func ExampleInfeasibleError() {
	households := make([]orb.Point, 100)
	for i := range households {
		households[i] = along(float64(i))
	}
	members := []orb.Point{along(0), along(25), along(50), along(75), along(99)}
	_, err := assign.Solve(context.Background(), assign.Problem{Clients: households, Servers: members})
	var ie *assign.InfeasibleError
	if errors.As(err, &ie) {
		fmt.Println(err)
		fmt.Println("members needed:", ie.NeedAtLeast)
	}
	// Output:
	// assign: infeasible: 100 clients, 5 servers with max 15 take at most 75; need at least 7 servers
	// members needed: 7
}

// Example_cadres assigns households to party members, then the members to
// village cadres, with the same function.
func Example_cadres() {
	var households []orb.Point
	for i := range 60 {
		households = append(households, along(float64(i*10)))
	}
	members := []orb.Point{along(0), along(100), along(200), along(300), along(400), along(500)}
	cadres := []orb.Point{along(150)}

	ctx := context.Background()
	h, err := assign.Solve(ctx, assign.Problem{Clients: households, Servers: members})
	if err != nil {
		panic(err)
	}
	c, err := assign.Solve(ctx, assign.Problem{
		Clients: members, Servers: cadres, Min: assign.CadreMin, Max: assign.CadreMax,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("households per member:", h.Loads)
	fmt.Println("members per cadre:", c.Loads)
	// Output:
	// households per member: [10 10 10 10 10 10]
	// members per cadre: [6]
}
