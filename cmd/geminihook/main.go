// Command geminihook runs the Gemini webhook receiver locally and gives its
// users the tools around it.
//
//	geminihook serve                 run the receiver (embedded mode when nothing is configured)
//	geminihook send                  sign and post realistic deliveries; a load generator
//	geminihook secret new            a fresh whsec_ signing secret
//	geminihook keys new              an Ed25519 key pair and its JWKS
//	geminihook jwks serve            serve a JWKS on loopback
//	geminihook tail                  print the events arriving on a subscription
//	geminihook webhooks ...          manage Gemini webhooks (WebhookService API)
//
// Exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Interrupted, a command stops what it is doing and exits cleanly
	// (serve drains its deliveries first).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return 2
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "geminihook",
		Short:         "Receive Gemini API webhooks: verify, dedupe, publish to Pub/Sub",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		// A bare "geminihook" prints the help and counts as a usage error.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Help()
			return usageError{errors.New("a command is required")}
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServeCmd(), newSendCmd(), newSecretCmd(), newKeysCmd(), newJWKSCmd(), newTailCmd(), newWebhooksCmd())
	// Unknown commands and wrong argument counts are usage errors too.
	wrapArgs(root)
	return root
}

// wrapArgs makes every argument-count error of cmd and its children a
// usageError.
func wrapArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		wrapArgs(c)
	}
	if cmd.Args == nil {
		return
	}
	check := cmd.Args
	cmd.Args = func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// newGroupCmd is a command that only holds subcommands: run bare, it
// prints its help and is a usage error.
func newGroupCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Help()
			return usageError{errors.New("a subcommand is required")}
		},
	}
}
