// Package static holds the web pages gridmap serves (the planner's map at / and the mobile
// "my grid" page at /m/), embedded in the binary.
package static

import (
	"embed"
	"io/fs"
)

//go:embed *.html
var files embed.FS

// FS returns the embedded pages.
func FS() fs.FS { return files }
