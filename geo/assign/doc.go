// Package assign links people to the people who look after them: every
// household of a village to a party member who lives nearby, and every
// party member to a village cadre, each "server" taking between Min and Max
// "clients" (10–15 households per member by default; ≥ 15 under the
// 1+10+15 rule; 5–10 members per cadre).
//
// The assignment minimises the total walking distance exactly: it is a
// transportation problem, solved as a min-cost flow over each client's K
// nearest servers (K = 20 by default, found with a uniform grid), plus
// each server's nearest clients. Lower bounds are honoured by the
// lower-bound transformation in its penalty form: each server's first Min
// units reach the sink at a cost of -B, with B larger than any total
// distance, and the rest at cost 0, so a min-cost flow meets every minimum
// whenever that is possible and is the shortest among those that do. (The
// other form, a shared slack node, would link every server to every other
// and make each search global.) The flow is found by successive shortest
// paths, one client at a time, with Dijkstra on reduced costs (Johnson
// potentials) that stops as soon as it reaches the sink, so a search only
// explores the neighbourhood it needs. If the K-nearest restriction makes
// the problem infeasible, K is doubled, up to all servers, at which point
// only the counts can make it infeasible; that is reported as an
// *InfeasibleError with the numbers.
//
// Distances are planar metres in a local equirectangular frame centred on
// the problem (fine for a village or a township); the flow works on
// integer costs rounded to 1 µm (to ~1 mm for single problems of 10⁵
// clients, to rule out overflow), so the optimum is exact to n such units.
//
// Greedy is the baseline planners use by hand: each household in turn to
// the nearest member who still has room. It ignores minimums and pays for
// its early choices later.
package assign
