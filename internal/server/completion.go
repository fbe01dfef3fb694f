package server

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// completion is `flexd completion bash|zsh|fish`: a shell completion
// script for the commands, their flags and the values of the flags that
// take one of a few words. The flags are read from each command's own
// --help, so a new flag is completed without being listed here.
func completion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || !slices.Contains([]string{"bash", "zsh", "fish"}, args[0]) {
		fmt.Fprint(stderr, "Usage: flexd completion bash|zsh|fish\n\n"+
			"  bash: source <(flexd completion bash)            (or save it in /etc/bash_completion.d/flexd)\n"+
			"  zsh:  source <(flexd completion zsh)             (in ~/.zshrc)\n"+
			"  fish: flexd completion fish > ~/.config/fish/completions/flexd.fish\n")
		return fmt.Errorf("%w: completion wants one of bash, zsh or fish", errUsage)
	}
	cmds := completionCommands(ctx)
	switch args[0] {
	case "bash":
		writeBash(stdout, cmds)
	case "zsh":
		// zsh runs the bash script through its bashcompinit.
		fmt.Fprint(stdout, "#compdef flexd\nautoload -U +X bashcompinit && bashcompinit\n")
		writeBash(stdout, cmds)
	case "fish":
		writeFish(stdout, cmds)
	}
	return nil
}

// completedCommand is a command and the flags it takes.
type completedCommand struct {
	name, help string
	flags      []string
	// valued are the flags that take a value (not booleans).
	valued map[string]bool
}

// completionValues are the words the enumerated flags take.
var completionValues = map[string][]string{
	"log-format":      {"text", "json"},
	"log-level":       {"debug", "info", "warn", "error"},
	"clock":           {"real", "manual"},
	"auth":            {"on", "off"},
	"api-rate-limits": {"report", "enforce", "off"},
	"snapshot":        {"latest"},
}

// helpFlag is a flag in the flag package's help: "  -name" for a
// boolean, "  -name type" for a flag that takes a value.
var helpFlag = regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)( \S+)?`)

func completionCommands(ctx context.Context) []completedCommand {
	cmds := []completedCommand{
		{name: "serve", help: "start the server"},
		{name: "drill", help: "run a restore drill, measuring RTO and RPO"},
		{name: "healthcheck", help: "exit 0 when a flexd answers GET /healthz"},
		{name: "version", help: "print the version, revision and build date"},
		{name: "completion", help: "print a shell completion script", flags: []string{"bash", "zsh", "fish"}},
		{name: "help", help: "show the help"},
	}
	for i, c := range cmds {
		if c.name == "version" || c.name == "help" || c.name == "completion" {
			continue
		}
		var help strings.Builder
		_ = Run(ctx, []string{"flexd", c.name, "-h"}, func(string) string { return "" }, io.Discard, &help)
		cmds[i].valued = map[string]bool{}
		for _, m := range helpFlag.FindAllStringSubmatch(help.String(), -1) {
			cmds[i].flags = append(cmds[i].flags, m[1])
			cmds[i].valued[m[1]] = m[2] != ""
		}
	}
	return cmds
}

func writeBash(w io.Writer, cmds []completedCommand) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `# flexd shell completion (flexd completion bash)
_flexd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W %q -- "$cur"))
		return
	fi
	local p=${prev#-}
	case "${p#-}" in
`, strings.Join(names, " "))
	for _, k := range sortedKeys(completionValues) {
		fmt.Fprintf(w, "\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", k, strings.Join(completionValues[k], " "))
	}
	fmt.Fprint(w, "\tesac\n\tcase \"${COMP_WORDS[1]}\" in\n")
	for _, c := range cmds {
		switch {
		case c.name == "completion":
			fmt.Fprintf(w, "\t%s) [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", c.name, strings.Join(c.flags, " "))
		case len(c.flags) > 0:
			var words []string
			for _, f := range c.flags {
				words = append(words, "--"+f)
			}
			fmt.Fprintf(w, "\t%s) [[ $cur == -* ]] && COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", c.name, strings.Join(words, " "))
		}
	}
	fmt.Fprint(w, "\tesac\n}\n# Files where no word matches: --config, --seed, --data-dir, --junit.\ncomplete -o default -F _flexd flexd\n")
}

func writeFish(w io.Writer, cmds []completedCommand) {
	fmt.Fprint(w, "# flexd shell completion (flexd completion fish)\ncomplete -c flexd -f\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c flexd -n __fish_use_subcommand -a %s -d %q\n", c.name, c.help)
	}
	for _, c := range cmds {
		cond := "__fish_seen_subcommand_from " + c.name
		if c.name == "completion" {
			fmt.Fprintf(w, "complete -c flexd -n %q -a %q\n", cond, strings.Join(c.flags, " "))
			continue
		}
		for _, f := range c.flags {
			switch vals, ok := completionValues[f]; {
			case ok:
				fmt.Fprintf(w, "complete -c flexd -n %q -l %s -x -a %q\n", cond, f, strings.Join(vals, " "))
			case f == "config" || f == "seed" || f == "junit" || f == "secret-key-file" || f == "data-dir":
				fmt.Fprintf(w, "complete -c flexd -n %q -l %s -r -F\n", cond, f)
			case c.valued[f]:
				fmt.Fprintf(w, "complete -c flexd -n %q -l %s -x\n", cond, f)
			default:
				fmt.Fprintf(w, "complete -c flexd -n %q -l %s\n", cond, f)
			}
		}
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
