// hello-go: prints a greeting. Built without -trimpath, so the binary keeps
// the directory it was built in (and its build ID hashes it).
package main

import "os"

func main() {
	os.Stdout.WriteString("Hello from Go!\n")
}
