package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/geminihook/geminihook/verify"
)

func newSecretCmd() *cobra.Command {
	cmd := newGroupCmd("secret", "Static signing secrets")
	cmd.AddCommand(&cobra.Command{
		Use:   "new",
		Short: "Print a fresh whsec_ secret (32 random bytes), for local receivers and tests",
		Long: `Print a fresh whsec_ secret (32 random bytes). Gemini issues the secrets of
real webhooks itself; this one is for a local receiver
(GEMINI_WEBHOOK_SECRETS) and 'geminihook send --secret'.`,
		Example: "  export GEMINI_WEBHOOK_SECRETS=$(geminihook secret new)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), verify.GenerateSecret())
			return err
		},
	})
	return cmd
}
