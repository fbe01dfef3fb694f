package flexdtest_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMERecipe: README.md's `go test` recipe is recipe_test.go, so the
// recipe a user copies compiles and passes here.
func TestREADMERecipe(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const open = "```go\npackage restore_test\n"
	_, block, found := strings.Cut(string(readme), open)
	block, _, closed := strings.Cut(block, "```\n")
	if !found || !closed {
		t.Fatalf("README.md has no Go block starting %q", open)
	}
	recipe, err := os.ReadFile("recipe_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(recipe), "\nimport (")
	if want := "\nimport (" + body; block != want {
		t.Errorf("README.md's recipe and recipe_test.go differ; README has:\n%s\nrecipe_test.go has:\n%s", block, want)
	}
}
