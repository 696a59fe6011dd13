// Command cable runs a cable message centre and its operator tools.
//
//	cable serve [--data DIR] [--addr HOST:PORT] [--demo] [--postgres DSN] ...
//	cable user add --data DIR --name N --station S --office O[,O] --clearance LEVEL [--captions C[,C]]
//	cable token create --data DIR --user N
//	cable check FILE|-
//	cable render --to text|json FILE|-
//	cable import transcript FILE | import tei FILE
//	cable verify --data DIR
//	cable bench
//	cable chaos
//
// Every subcommand has --help. This is the only place that knows every
// package of the system and wires them together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // station time zones work on machines without a tz database

	cable "github.com/cable-archive/cable"
)

// exitError carries the exit status a command wants.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signalContext()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "cable:", describe(err))
		os.Exit(1)
	}
}

// describe writes an error for a person: every problem of an invalid input
// on a line of its own.
func describe(err error) string {
	ps := cable.ErrorProblems(err)
	if len(ps) == 0 {
		// An application error reads as its message, not its code and
		// message for a log, with whatever context wraps it.
		var ce *cable.Error
		if errors.As(err, &ce) && ce.Message != "" {
			return strings.Replace(err.Error(), ce.Error(), ce.Message, 1)
		}
		return err.Error()
	}
	s := cable.ErrorMessage(err)
	for _, p := range ps {
		s += "\n  " + p.String()
	}
	return s
}

const usage = `cable: formal correspondence between the stations of an organisation.

Usage:
  cable serve      run a message centre node (web UI, JSON API, transport)
  cable user add   add a user to a data directory
  cable token create  make an API bearer token for a user
  cable check      validate a cable in the text form or JSON
  cable render     convert a cable between the text form and JSON
  cable import     import historical records (transcript, tei)
  cable verify     check the records and the event log are intact
  cable station    make, export, trust and rotate a station's keys
  cable chaos      run the network's fault tests against real processes
  cable bench      measure the release path against raw JetStream

Run "cable COMMAND --help" for a command's flags.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "user":
		if len(rest) == 0 || rest[0] != "add" {
			if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h") {
				fmt.Fprintln(stdout, "Usage: cable user add --data DIR --name N --station S --office O[,O] --clearance LEVEL [--captions C[,C]] [--roles drafter,operator]")
				return nil
			}
			fmt.Fprintln(stderr, "usage: cable user add --help")
			return exitError{2}
		}
		return runUserAdd(ctx, rest[1:], stdin, stdout, stderr)
	case "token":
		if len(rest) == 0 || rest[0] != "create" {
			if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h") {
				fmt.Fprintln(stdout, "Usage: cable token create --data DIR --user N")
				return nil
			}
			fmt.Fprintln(stderr, "usage: cable token create --help")
			return exitError{2}
		}
		return runTokenCreate(ctx, rest[1:], stdout, stderr)
	case "check":
		return runCheck(ctx, rest, stdin, stdout, stderr)
	case "render":
		return runRender(ctx, rest, stdin, stdout, stderr)
	case "import":
		return runImport(ctx, rest, stdin, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, stdout, stderr)
	case "station":
		return runStation(ctx, rest, stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "chaos":
		return runChaos(ctx, rest, stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "cable: unknown command %q\n\n%s", cmd, usage)
	return exitError{2}
}

// newFlagSet returns a flag set that prints its usage to stdout on --help
// and to stderr on a mistake.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: cable %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, printing help on stdout for --help.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	for _, a := range args {
		if a == "--help" || a == "-help" || a == "-h" {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	return nil
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
