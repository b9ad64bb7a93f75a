package ingest

import "hash/maphash"

// idSet remembers the external ids of a file and the line each was first used on: a
// map[string]int for millions of ids. Ids are copied into one byte arena, so that they cost
// neither an allocation each nor a pointer for the garbage collector to trace, and an
// open-addressing table of their hashes points into it, so that looking an id up and adding
// it touches one slot of the table (and the arena only when the hashes match).
type idSet struct {
	seed   maphash.Seed
	slots  []idSlot // a power of two of them; at most 3/4 used
	arena  []byte   // the ids, one after the other
	starts []int    // where each id starts in arena; it ends where the next starts
	lines  []int    // the line of each id
	sink   uint64   // keeps the loads of touch
}

// idSlot is a slot of the table: the hash of an id, and 1 + its index (0: empty).
type idSlot struct {
	hash uint64
	id   uint32
}

// add returns the line id was first used on, if it was; otherwise it remembers id (a copy
// of it) as first used on line.
func (s *idSet) add(id string, line int) (first int, dup bool) {
	if 4*(len(s.lines)+1) > 3*len(s.slots) {
		s.grow()
	}
	h := maphash.String(s.seed, id)
	mask := uint64(len(s.slots) - 1)
	for j := h & mask; ; j = (j + 1) & mask {
		sl := &s.slots[j]
		if sl.id == 0 {
			*sl = idSlot{hash: h, id: uint32(len(s.lines) + 1)}
			s.starts = append(s.starts, len(s.arena))
			s.arena = append(s.arena, id...)
			s.lines = append(s.lines, line)
			return 0, false
		}
		if sl.hash == h && s.is(int(sl.id-1), id) {
			return s.lines[sl.id-1], true
		}
	}
}

// is reports whether the id of index i is id.
func (s *idSet) is(i int, id string) bool {
	end := len(s.arena)
	if i+1 < len(s.starts) {
		end = s.starts[i+1]
	}
	return string(s.arena[s.starts[i]:end]) == id
}

// grow doubles the table (or makes the first one) and puts the ids back in by their hashes.
func (s *idSet) grow() {
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
		s.slots = make([]idSlot, 1024)
		return
	}
	old := s.slots
	s.slots = make([]idSlot, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, sl := range old {
		if sl.id == 0 {
			continue
		}
		j := sl.hash & mask
		for s.slots[j].id != 0 {
			j = (j + 1) & mask
		}
		s.slots[j] = sl
	}
}

// touch loads the slot id would be looked up in first. Touching the slots of a batch of ids
// before adding them lets the processor fetch them from memory together, rather than wait
// for each in turn; it changes nothing else.
func (s *idSet) touch(id string) {
	if len(s.slots) > 0 {
		s.sink += s.slots[maphash.String(s.seed, id)&uint64(len(s.slots)-1)].hash
	}
}
