package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/spf13/cobra"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/geminihook/geminihook/internal/gemini"
	"github.com/geminihook/geminihook/verify"
)

// webhooksOptions are the flags every `geminihook webhooks` command shares.
type webhooksOptions struct {
	apiKeyFile string
	endpoint   string
	json       bool
	timeout    time.Duration
	// smEndpoint replaces Secret Manager's endpoint; on a loopback host it
	// is dialled in plaintext without credentials (the tests' fake server).
	smEndpoint string
}

const webhooksLong = `Manage the Gemini API's webhooks (the WebhookService): register the
receiver's URL, list, inspect, update, ping and delete webhooks, and issue
new signing secrets.

The API key is read from $GEMINI_API_KEY, or from the file --api-key-file
names. It is sent only in the x-goog-api-key header and never printed.

Gemini shows a signing secret once: when a webhook is created, and when its
secret is rotated. With --secret-to projects/P/secrets/S the secret is added
as a new version of that Secret Manager secret (the one the receiver mounts;
Application Default Credentials are used), with --secret-out FILE it is
written to a new file (mode 0600); with either it is never printed. Without
them it is printed to stdout, labelled.

A webhook is named by its id, as abc or as webhooks/abc.

Exit codes: 0 success, 1 failure (the API, the network, Secret Manager),
2 bad usage, including a missing API key.`

func newWebhooksCmd() *cobra.Command {
	o := &webhooksOptions{}
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Manage Gemini webhooks: register the receiver, rotate its signing secret",
		Long:  webhooksLong,
		Example: `  export GEMINI_API_KEY=...
  geminihook webhooks create --uri "$FUNCTION_URL" --events batch.succeeded,video.generated \
    --secret-to projects/my-project/secrets/geminihook-signing-secrets
  geminihook webhooks list
  geminihook webhooks rotate abc123 --secret-to projects/my-project/secrets/geminihook-signing-secrets
  geminihook webhooks rotate --finish --secret-to projects/my-project/secrets/geminihook-signing-secrets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Help()
			return usageError{errors.New("a webhooks command is required")}
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.apiKeyFile, "api-key-file", "", "read the Gemini API key from this file instead of $GEMINI_API_KEY")
	pf.StringVar(&o.endpoint, "endpoint", gemini.DefaultBaseURL, "the Gemini API's REST root (https, or http on loopback)")
	pf.BoolVar(&o.json, "json", false, "print JSON, for scripts")
	pf.DurationVar(&o.timeout, "timeout", time.Minute, "give up after this long")
	pf.StringVar(&o.smEndpoint, "secretmanager-endpoint", "", "Secret Manager gRPC endpoint host:port (plaintext, no credentials, on loopback)")
	pf.MarkHidden("secretmanager-endpoint")
	cmd.AddCommand(o.createCmd(), o.listCmd(), o.getCmd(), o.updateCmd(), o.deleteCmd(), o.pingCmd(), o.rotateCmd())
	return cmd
}

// webhookIDArg accepts exactly one webhook id.
func webhookIDArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want one webhook ID (abc or webhooks/abc), got %d arguments", len(args))
	}
	_, err := gemini.ParseID(args[0])
	return err
}

func (o *webhooksOptions) createCmd() *cobra.Command {
	var uri, name string
	var events []string
	var allowUnknown bool
	dest := &webhookSecretDest{o: o}
	cmd := &cobra.Command{
		Use:   "create --uri URL --events EVENT[,EVENT...]",
		Short: "Register a URL; its signing secret goes to Secret Manager, a file or stdout",
		Long: `Register a URL with Gemini for the given events, and keep the signing secret
Gemini answers with (it is shown only this once): --secret-to adds it as a
new version of a Secret Manager secret, --secret-out writes it to a new file
(mode 0600); without either it is printed to stdout, labelled.

Before anything is registered, the destination is checked: the file must not
exist, and you must be allowed to add versions to the secret.

Events: ` + strings.Join(gemini.SubscribableEvents(), ", ") + `.`,
		Example: `  geminihook webhooks create --uri https://us-central1-p.cloudfunctions.net/geminihook \
    --events batch.succeeded,batch.failed,video.generated --secret-to projects/p/secrets/geminihook-signing-secrets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkWebhookURI(uri); err != nil {
				return err
			}
			if !cmd.Flags().Changed("events") {
				return usageError{errors.New("--events is required (subscribable: " + strings.Join(gemini.SubscribableEvents(), ", ") + ")")}
			}
			evs, err := parseWebhookEvents(events, allowUnknown, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := dest.check(); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			if _, err := dest.prepare(ctx, false); err != nil {
				return err
			}
			defer dest.close()
			w, err := c.Create(ctx, gemini.CreateRequest{Name: name, URI: uri, SubscribedEvents: evs})
			if err != nil {
				return err
			}
			if w.NewSigningSecret == "" {
				return fmt.Errorf("webhook %s was created, but Gemini's answer held no signing secret: issue one with 'geminihook webhooks rotate %s --immediately%s'", w.ID(), w.ID(), dest.flagsText())
			}
			warnIfUnusableSecret(w.NewSigningSecret, cmd.ErrOrStderr())
			where, err := dest.save(ctx, string(w.NewSigningSecret), nil)
			if err != nil {
				return fmt.Errorf("webhook %s was created, but its signing secret could not be stored: %w\nThe secret was not printed. Nothing verifies with it yet: fix the cause, then issue a new one with 'geminihook webhooks rotate %s --immediately%s'", w.ID(), err, w.ID(), dest.flagsText())
			}
			return o.printCreated(cmd.OutOrStdout(), w, dest, where)
		},
	}
	f := cmd.Flags()
	f.StringVar(&uri, "uri", "", "the receiver's URL, https (required)")
	f.StringSliceVar(&events, "events", nil, "events to subscribe to, comma-separated or repeated (required)")
	f.StringVar(&name, "name", "", "the webhook's name field, as the API takes it (optional)")
	f.BoolVar(&allowUnknown, "allow-unknown-events", false, "send event names this tool does not know; the API decides")
	dest.flags(cmd)
	return cmd
}

func (o *webhooksOptions) printCreated(out io.Writer, w gemini.Webhook, dest *webhookSecretDest, where string) error {
	if o.json {
		v := struct {
			Webhook          gemini.Webhook `json:"webhook"`
			NewSigningSecret string         `json:"new_signing_secret,omitempty"`
			SecretStoredIn   string         `json:"secret_stored_in,omitempty"`
		}{Webhook: w, SecretStoredIn: where}
		if !dest.set() {
			v.NewSigningSecret = string(w.NewSigningSecret)
		}
		return printWebhooksJSON(out, v)
	}
	fmt.Fprintf(out, "Created webhook %s.\n", w.ID())
	printWebhookText(out, w)
	fmt.Fprintln(out)
	if dest.set() {
		fmt.Fprintf(out, "Signing secret stored in %s; it was not printed.\n", where)
	} else {
		fmt.Fprintf(out, "Signing secret (Gemini shows it only this once: store it now):\n%s\n\n", string(w.NewSigningSecret))
	}
	fmt.Fprintf(out, "Next: export WEBHOOK_ID=%s\n", w.ID())
	return nil
}

func (o *webhooksOptions) listCmd() *cobra.Command {
	var pageSize int
	var pageToken string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the webhooks: id, state, URI, events",
		Long: `List the project's webhooks as a table (id, state, URI, events), or as JSON
with --json. Every page is fetched unless --page-token is given: then only
that page (--page-token "" for the first), and the next page's token is
printed (on stderr, or as next_page_token with --json).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pageSize < 0 || pageSize > 1000 {
				return usageError{fmt.Errorf("--page-size %d: want 1 to 1000 (0: the server's default)", pageSize)}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			var p gemini.Page
			if cmd.Flags().Changed("page-token") {
				p, err = c.ListPage(ctx, pageSize, pageToken)
			} else {
				p.Webhooks, err = c.List(ctx, pageSize)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.json {
				return printWebhooksJSON(out, struct {
					Webhooks      []gemini.Webhook `json:"webhooks"`
					NextPageToken string           `json:"next_page_token,omitempty"`
				}{append([]gemini.Webhook{}, p.Webhooks...), p.NextPageToken})
			}
			if len(p.Webhooks) == 0 {
				fmt.Fprintln(out, "No webhooks.")
			} else {
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tURI\tEVENTS")
				for _, w := range p.Webhooks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", webhookText(w.ID()), webhookText(string(w.State)), webhookText(w.URI), webhookText(strings.Join(w.SubscribedEvents, ",")))
				}
				tw.Flush()
			}
			if p.NextPageToken != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "next page: --page-token %s\n", webhookText(p.NextPageToken))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&pageSize, "page-size", 0, "webhooks per page asked of the server (at most 1000; 0: its default, 50)")
	cmd.Flags().StringVar(&pageToken, "page-token", "", "fetch only the page this token names (\"\" for the first)")
	return cmd
}

func (o *webhooksOptions) getCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one webhook",
		Args:  webhookIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			w, err := c.Get(ctx, args[0])
			if err != nil {
				return err
			}
			return o.printWebhook(cmd.OutOrStdout(), w)
		},
	}
}

func (o *webhooksOptions) updateCmd() *cobra.Command {
	var uri string
	var events []string
	var enable, allowUnknown bool
	cmd := &cobra.Command{
		Use:   "update ID [--uri URL] [--events EVENT[,EVENT...]] [--enable]",
		Short: "Change a webhook's URL or events, or enable it again",
		Long: `Change what the flags name, and nothing else: the update mask is built from
the flags given (--uri: uri, --events: subscribed_events, --enable: state).
--events replaces the whole list. --enable sets the state back to enabled,
e.g. after Gemini disabled the webhook for failed deliveries.

The webhook is read first, so that the request also carries its current URI
and events, which the API may require in every update body; the mask alone
decides what changes.`,
		Example: `  geminihook webhooks update abc123 --enable
  geminihook webhooks update webhooks/abc123 --events batch.succeeded,batch.failed`,
		Args: webhookIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			var mask []string
			var evs []string
			if cmd.Flags().Changed("uri") {
				if err := checkWebhookURI(uri); err != nil {
					return err
				}
				mask = append(mask, gemini.FieldURI)
			}
			if cmd.Flags().Changed("events") {
				var err error
				if evs, err = parseWebhookEvents(events, allowUnknown, cmd.ErrOrStderr()); err != nil {
					return err
				}
				mask = append(mask, gemini.FieldSubscribedEvents)
			}
			if enable {
				mask = append(mask, gemini.FieldState)
			}
			if len(mask) == 0 {
				return usageError{errors.New("nothing to update: give --uri, --events or --enable")}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			cur, err := c.Get(ctx, args[0])
			if err != nil {
				return err
			}
			w := gemini.Webhook{URI: cur.URI, SubscribedEvents: cur.SubscribedEvents}
			if slices.Contains(mask, gemini.FieldURI) {
				w.URI = uri
			}
			if slices.Contains(mask, gemini.FieldSubscribedEvents) {
				w.SubscribedEvents = evs
			}
			if enable {
				w.State = gemini.StateEnabled
			}
			updated, err := c.Update(ctx, args[0], w, mask)
			if err != nil {
				return err
			}
			return o.printWebhook(cmd.OutOrStdout(), updated)
		},
	}
	f := cmd.Flags()
	f.StringVar(&uri, "uri", "", "new receiver URL, https")
	f.StringSliceVar(&events, "events", nil, "new list of events, comma-separated or repeated")
	f.BoolVar(&enable, "enable", false, "set the state back to enabled")
	f.BoolVar(&allowUnknown, "allow-unknown-events", false, "send event names this tool does not know; the API decides")
	return cmd
}

func (o *webhooksOptions) deleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a webhook: Gemini stops sending to it",
		Args:  webhookIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.simple(cmd, args[0], "deleted", "Deleted webhook %s.\n", (*gemini.Client).Delete)
		},
	}
}

func (o *webhooksOptions) pingCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ping ID",
		Short: "Ask Gemini to send a test delivery to a webhook",
		Args:  webhookIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.simple(cmd, args[0], "pinged", "Asked Gemini to send a test delivery to webhook %s.\n", (*gemini.Client).Ping)
		},
	}
}

// simple runs a call that answers nothing, and reports it.
func (o *webhooksOptions) simple(cmd *cobra.Command, arg, key, text string, call func(*gemini.Client, context.Context, string) error) error {
	id, _ := gemini.ParseID(arg) // checked by webhookIDArg
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.context(cmd)
	defer cancel()
	if err := call(c, ctx, id); err != nil {
		return err
	}
	if o.json {
		return printWebhooksJSON(cmd.OutOrStdout(), map[string]string{key: "webhooks/" + id})
	}
	fmt.Fprintf(cmd.OutOrStdout(), text, id)
	return nil
}

// webhookRotationOverlap is how long Gemini keeps the previous secrets valid after
// a rotation with revoke_previous_secrets_after_h24.
const webhookRotationOverlap = 24 * time.Hour

func (o *webhooksOptions) rotateCmd() *cobra.Command {
	var immediately, finish, force bool
	dest := &webhookSecretDest{o: o}
	cmd := &cobra.Command{
		Use:   "rotate (ID | --finish --secret-to SECRET)",
		Short: "Issue a new signing secret; keep new and old in Secret Manager for 24 hours",
		Long: `Ask Gemini for a new signing secret for the webhook ID.

By default Gemini keeps the previous secrets valid for 24 hours, and the
receiver must accept both: with --secret-to, the secret's latest version is
read first, and the new version holds the new secret on the first line and
the previous ones after it ("NEW\nOLD..."). The receiver picks it up within
seconds. With --immediately the previous secrets stop working now, and the
new version holds the new secret only.

--finish is the second step, 24 hours later: it keeps only the first line
(the newest secret) of the secret's latest version, as a new version. It
calls no Gemini API and takes no ID. It refuses while the latest version is
younger than 24 hours, unless --force.

--secret-out FILE writes the new secret alone to a new file (mode 0600).
Without --secret-to or --secret-out the new secret is printed, labelled.`,
		Example: `  geminihook webhooks rotate abc123 --secret-to projects/p/secrets/geminihook-signing-secrets
  # 24 hours later:
  geminihook webhooks rotate --finish --secret-to projects/p/secrets/geminihook-signing-secrets`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if force && !finish {
				return usageError{errors.New("--force applies to --finish only")}
			}
			if finish {
				switch {
				case len(args) > 0:
					return usageError{errors.New("--finish takes no webhook ID: it only edits the Secret Manager secret")}
				case immediately || dest.out != "":
					return usageError{errors.New("--finish works on --secret-to alone, not with --immediately or --secret-out")}
				case dest.to == "":
					return usageError{errors.New("--finish needs --secret-to SECRET")}
				}
				if err := dest.check(); err != nil {
					return err
				}
				ctx, cancel := o.context(cmd)
				defer cancel()
				return o.finishRotation(ctx, cmd.OutOrStdout(), dest.to, force)
			}
			if len(args) != 1 {
				return usageError{errors.New("want the webhook ID (abc or webhooks/abc), or --finish")}
			}
			id, err := gemini.ParseID(args[0])
			if err != nil {
				return usageError{err}
			}
			if err := dest.check(); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			how := gemini.RevokeAfter24h
			if immediately {
				how = gemini.RevokeImmediately
			}
			// The previous secrets are read before Gemini issues a new one, so
			// that a secret that cannot be read stops the rotation before
			// anything changed.
			old, err := dest.prepare(ctx, how == gemini.RevokeAfter24h)
			if err != nil {
				return err
			}
			defer dest.close()
			secret, err := c.Rotate(ctx, id, how)
			if err != nil {
				return err
			}
			warnIfUnusableSecret(secret, cmd.ErrOrStderr())
			where, err := dest.save(ctx, string(secret), old)
			if err != nil {
				again := "The previous secret stays valid for 24 hours: fix the cause, then run 'geminihook webhooks rotate " + id + dest.flagsText() + "' again."
				if immediately {
					again = "The previous secrets are revoked, so deliveries fail verification now: fix the cause, then run 'geminihook webhooks rotate " + id + " --immediately" + dest.flagsText() + "' again at once."
				}
				return fmt.Errorf("Gemini issued a new signing secret for webhook %s, but it could not be stored: %w\nThe secret was not printed. %s", id, err, again)
			}
			return o.printRotated(cmd.OutOrStdout(), id, how, secret, dest, where, len(old))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&immediately, "immediately", false, "revoke the previous secrets now instead of in 24 hours")
	f.BoolVar(&finish, "finish", false, "24 hours after a rotation: keep only the newest secret in --secret-to")
	f.BoolVar(&force, "force", false, "with --finish: even if the latest version is younger than 24 hours")
	dest.flags(cmd)
	return cmd
}

func (o *webhooksOptions) printRotated(out io.Writer, id string, how gemini.Revocation, secret gemini.Secret, dest *webhookSecretDest, where string, kept int) error {
	if o.json {
		v := struct {
			Webhook             string            `json:"webhook"`
			RevocationBehavior  gemini.Revocation `json:"revocation_behavior"`
			Secret              string            `json:"secret,omitempty"`
			SecretStoredIn      string            `json:"secret_stored_in,omitempty"`
			PreviousSecretsKept int               `json:"previous_secrets_kept"`
		}{"webhooks/" + id, how, "", where, kept}
		if !dest.set() {
			v.Secret = string(secret)
		}
		return printWebhooksJSON(out, v)
	}
	if how == gemini.RevokeImmediately {
		fmt.Fprintf(out, "Issued a new signing secret for webhook %s; the previous secrets are revoked now.\n", id)
	} else {
		fmt.Fprintf(out, "Issued a new signing secret for webhook %s; Gemini keeps the previous secrets valid for 24 hours.\n", id)
	}
	switch {
	case dest.to != "":
		fmt.Fprintf(out, "Stored the new secret and %d previous %s in %s; it was not printed. The receiver reads it within seconds.\n", kept, webhooksPlural(kept, "secret", "secrets"), where)
		if how == gemini.RevokeAfter24h {
			fmt.Fprintf(out, "After 24 hours, keep only the new secret:\n  geminihook webhooks rotate --finish --secret-to %s\n", dest.to)
		}
	case dest.out != "":
		fmt.Fprintf(out, "Wrote the new secret to %s; it was not printed.\n", where)
		if how == gemini.RevokeAfter24h {
			fmt.Fprintln(out, "The receiver must accept the new and the previous secret for the next 24 hours.")
		}
	default:
		fmt.Fprintf(out, "\nNew signing secret (Gemini shows it only this once: store it now):\n%s\n", string(secret))
		if how == gemini.RevokeAfter24h {
			fmt.Fprintln(out, "\nThe receiver must accept the new and the previous secret for the next 24 hours.")
		}
	}
	return nil
}

// finishRotation keeps only the newest secret of the latest version.
func (o *webhooksOptions) finishRotation(ctx context.Context, out io.Writer, secret string, force bool) error {
	store, err := o.openSecretStore(ctx, secret)
	if err != nil {
		return err
	}
	defer store.close()
	version, data, err := store.latest(ctx)
	if err != nil {
		return err
	}
	secrets := webhookSecretFields(data)
	report := func(v string, dropped int) error {
		if o.json {
			return printWebhooksJSON(out, map[string]any{"secret": secret, "version": v, "dropped": dropped})
		}
		if dropped == 0 {
			fmt.Fprintf(out, "%s holds one secret already; nothing to finish.\n", v)
		} else {
			fmt.Fprintf(out, "Kept only the newest secret, as %s (dropped %d older %s). The receiver reads it within seconds.\n", v, dropped, webhooksPlural(dropped, "secret", "secrets"))
		}
		return nil
	}
	switch len(secrets) {
	case 0:
		return fmt.Errorf("%s holds no secret: nothing to keep", version)
	case 1:
		return report(version, 0)
	}
	created, err := store.created(ctx, version)
	if err != nil {
		return err
	}
	if age := time.Since(created); age < webhookRotationOverlap && !force {
		return fmt.Errorf("%s was added %s ago: Gemini keeps the previous secret valid for 24 hours after a rotation, and the receiver should accept it until then. Run this again after %s, or give --force",
			version, age.Round(time.Second), created.Add(webhookRotationOverlap).Local().Format("2006-01-02 15:04 MST"))
	}
	v, err := store.add(ctx, []byte(secrets[0]+"\n"))
	if err != nil {
		return err
	}
	return report(v, len(secrets)-1)
}

// printWebhook prints one webhook, as text or JSON.
func (o *webhooksOptions) printWebhook(out io.Writer, w gemini.Webhook) error {
	if o.json {
		return printWebhooksJSON(out, w)
	}
	printWebhookText(out, w)
	return nil
}

func printWebhookText(out io.Writer, w gemini.Webhook) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", webhookText(w.ID()))
	fmt.Fprintf(tw, "uri:\t%s\n", webhookText(w.URI))
	fmt.Fprintf(tw, "events:\t%s\n", webhookText(strings.Join(w.SubscribedEvents, ", ")))
	fmt.Fprintf(tw, "state:\t%s\n", webhookText(string(w.State)))
	if !w.CreateTime.IsZero() {
		fmt.Fprintf(tw, "created:\t%s\n", w.CreateTime.Format(time.RFC3339))
	}
	if !w.UpdateTime.IsZero() {
		fmt.Fprintf(tw, "updated:\t%s\n", w.UpdateTime.Format(time.RFC3339))
	}
	for _, s := range w.SigningSecrets {
		line := webhookText(s.Truncated)
		if !s.ExpireTime.IsZero() {
			line += " (expires " + s.ExpireTime.Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(tw, "signing secret:\t%s\n", line)
	}
	tw.Flush()
	if w.State == gemini.StateDisabledDueToFailedDeliveries {
		fmt.Fprintf(out, "Gemini disabled it after failed deliveries; once the receiver works, enable it with:\n  geminihook webhooks update %s --enable\n", w.ID())
	}
}

func printWebhooksJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// webhookText makes a value from the API safe to print on a terminal.
func webhookText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

func webhooksPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (o *webhooksOptions) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one stops the process at once, even
	// while a secret Gemini issued is being stored.
	context.AfterFunc(ctx, stop)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	return ctx, func() { cancel(); stop() }
}

// client checks the shared flags and reads the API key. Problems are usage
// errors: the key is configuration, like a flag.
func (o *webhooksOptions) client() (*gemini.Client, error) {
	if o.timeout <= 0 {
		return nil, usageError{fmt.Errorf("--timeout %v: must be positive", o.timeout)}
	}
	key, err := o.apiKey()
	if err != nil {
		return nil, err
	}
	c, err := gemini.New(key, gemini.WithBaseURL(o.endpoint))
	if err != nil {
		return nil, usageError{fmt.Errorf("--endpoint: %w", err)}
	}
	return c, nil
}

// maxAPIKeyFile bounds what --api-key-file reads; a key is ~40 bytes.
const maxAPIKeyFile = 4 << 10

func (o *webhooksOptions) apiKey() (string, error) {
	if o.apiKeyFile == "" {
		key := strings.TrimSpace(os.Getenv("GEMINI_API_KEY"))
		if key == "" {
			return "", usageError{errors.New("GEMINI_API_KEY is not set: export your Gemini API key, or give --api-key-file FILE")}
		}
		return key, nil
	}
	f, err := os.Open(o.apiKeyFile)
	if err != nil {
		return "", usageError{fmt.Errorf("--api-key-file: %w", err)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAPIKeyFile+1))
	switch {
	case err != nil:
		return "", usageError{fmt.Errorf("--api-key-file: %w", err)}
	case len(b) > maxAPIKeyFile:
		return "", usageError{fmt.Errorf("--api-key-file %s: larger than %d bytes, not an API key", o.apiKeyFile, maxAPIKeyFile)}
	}
	key := strings.TrimSpace(string(b))
	switch {
	case key == "":
		return "", usageError{fmt.Errorf("--api-key-file %s: empty", o.apiKeyFile)}
	case strings.ContainsFunc(key, unicode.IsSpace):
		return "", usageError{fmt.Errorf("--api-key-file %s: holds more than one word; want the key alone", o.apiKeyFile)}
	}
	return key, nil
}

// checkWebhookURI accepts the absolute https URL Gemini delivers to.
func checkWebhookURI(uri string) error {
	if uri == "" {
		return usageError{errors.New("--uri is required: the receiver's https URL")}
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return usageError{fmt.Errorf("--uri %q: want an absolute https:// URL without credentials", uri)}
	}
	return nil
}

// parseWebhookEvents trims and dedupes --events and checks each name.
func parseWebhookEvents(raw []string, allowUnknown bool, stderr io.Writer) ([]string, error) {
	var evs []string
	for _, e := range raw {
		if e = strings.TrimSpace(e); e != "" && !slices.Contains(evs, e) {
			evs = append(evs, e)
		}
	}
	known := gemini.SubscribableEvents()
	if len(evs) == 0 {
		return nil, usageError{errors.New("--events: give at least one event (subscribable: " + strings.Join(known, ", ") + ")")}
	}
	for _, e := range evs {
		if slices.Contains(known, e) {
			continue
		}
		if !allowUnknown {
			hint := ""
			if e == "batch.completed" {
				hint = ` ("batch.completed" is an old name of batch.succeeded)`
			}
			return nil, usageError{fmt.Errorf("--events: unknown event %q%s; subscribable: %s (--allow-unknown-events sends it anyway)", e, hint, strings.Join(known, ", "))}
		}
		fmt.Fprintf(stderr, "warning: --events: %q is not an event this tool knows; sending it as given\n", webhookText(e))
	}
	return evs, nil
}

// warnIfUnusableSecret says when the receiver could not parse a secret
// Gemini issued. The secret is stored anyway: it cannot be asked for again.
func warnIfUnusableSecret(s gemini.Secret, stderr io.Writer) {
	if _, err := verify.ParseSecret(string(s)); err != nil {
		// verify's errors never contain the secret.
		fmt.Fprintf(stderr, "warning: the new signing secret is not one the receiver can use (%v); it is kept as given\n", err)
	}
}

// webhookSecretDest is where a new signing secret goes: a Secret Manager
// secret (--secret-to), a new file (--secret-out), or stdout (neither).
type webhookSecretDest struct {
	o       *webhooksOptions
	to, out string

	store   *webhookSecretStore
	file    *os.File
	written bool
}

func (d *webhookSecretDest) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.to, "secret-to", "", "add the secret as a new version of this Secret Manager secret, projects/P/secrets/S")
	cmd.Flags().StringVar(&d.out, "secret-out", "", "write the secret to this new file (mode 0600) instead of printing it")
}

func (d *webhookSecretDest) set() bool { return d.to != "" || d.out != "" }

// flagsText repeats the destination flags, for a command to suggest.
func (d *webhookSecretDest) flagsText() string {
	switch {
	case d.to != "":
		return " --secret-to " + d.to
	case d.out != "":
		return " --secret-out NEW_FILE"
	}
	return ""
}

var webhookSecretNamePattern = regexp.MustCompile(`^projects/[a-z0-9.:-]+/secrets/[A-Za-z0-9_-]{1,255}$`)

func (d *webhookSecretDest) check() error {
	if d.to != "" && d.out != "" {
		return usageError{errors.New("--secret-to and --secret-out are exclusive")}
	}
	if d.to != "" && !webhookSecretNamePattern.MatchString(d.to) {
		return usageError{fmt.Errorf("--secret-to %q: want projects/PROJECT/secrets/SECRET (the secret, not a version)", d.to)}
	}
	if ep := d.o.smEndpoint; ep != "" {
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return usageError{fmt.Errorf("--secretmanager-endpoint %q: want host:port", ep)}
		}
	}
	return nil
}

// prepare makes sure the secret can be kept before Gemini issues it: the
// file is created (it must not exist), or the caller must be allowed to add
// versions to the secret. With readOld it also returns the secrets of the
// secret's latest version, which a rotation keeps for 24 hours.
func (d *webhookSecretDest) prepare(ctx context.Context, readOld bool) ([]string, error) {
	switch {
	case d.out != "":
		f, err := os.OpenFile(d.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return nil, usageError{fmt.Errorf("--secret-out %s: the file exists; name a new file", d.out)}
		}
		if err != nil {
			return nil, usageError{fmt.Errorf("--secret-out: %w", err)}
		}
		d.file = f
	case d.to != "":
		store, err := d.o.openSecretStore(ctx, d.to)
		if err != nil {
			return nil, err
		}
		d.store = store
		if err := store.checkCanAdd(ctx); err != nil {
			return nil, err
		}
		if readOld {
			_, data, err := store.latest(ctx)
			if err != nil {
				return nil, err
			}
			return webhookSecretFields(data), nil
		}
	}
	return nil, nil
}

// webhookSaveTimeout bounds storing a secret Gemini has issued. It does not
// count against --timeout, nor stop at Ctrl-C: Gemini will not show the
// secret again, so storing it is worth finishing.
const webhookSaveTimeout = time.Minute

// save keeps secret: in Secret Manager as "secret\nold...\n", in the file
// alone, or nowhere (stdout is the caller's). It returns where it went.
func (d *webhookSecretDest) save(ctx context.Context, secret string, old []string) (string, error) {
	switch {
	case d.store != nil:
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), webhookSaveTimeout)
		defer cancel()
		lines := []string{secret}
		for _, s := range old {
			if !slices.Contains(lines, s) {
				lines = append(lines, s)
			}
		}
		return d.store.add(ctx, []byte(strings.Join(lines, "\n")+"\n"))
	case d.file != nil:
		_, err := d.file.WriteString(secret + "\n")
		if err == nil {
			err = d.file.Sync()
		}
		if cerr := d.file.Close(); err == nil {
			err = cerr
		}
		d.written = err == nil
		d.file = nil
		if err != nil {
			return "", fmt.Errorf("--secret-out %s: %w", d.out, err)
		}
		return d.out, nil
	}
	return "", nil
}

// close releases the destination; a file that received nothing is removed.
func (d *webhookSecretDest) close() {
	if d.file != nil {
		d.file.Close()
		if !d.written {
			os.Remove(d.out)
		}
	}
	if d.store != nil {
		d.store.close()
	}
}

// webhookSecretFields splits a secrets file as the receiver reads it:
// secrets separated by white space or commas.
func webhookSecretFields(data []byte) []string {
	return strings.FieldsFunc(string(data), func(r rune) bool { return unicode.IsSpace(r) || r == ',' })
}

// webhookSecretStore adds and reads versions of one Secret Manager secret.
type webhookSecretStore struct {
	client *secretmanager.Client
	secret string // projects/P/secrets/S
}

func (o *webhooksOptions) openSecretStore(ctx context.Context, secret string) (*webhookSecretStore, error) {
	var opts []option.ClientOption
	if ep := o.smEndpoint; ep != "" {
		opts = append(opts, option.WithEndpoint(ep))
		if host, _, err := net.SplitHostPort(ep); err == nil && webhooksLoopback(host) {
			opts = append(opts, option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		}
	}
	c, err := secretmanager.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("Secret Manager (Application Default Credentials; 'gcloud auth application-default login'): %w", err)
	}
	return &webhookSecretStore{client: c, secret: secret}, nil
}

func webhooksLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *webhookSecretStore) close() { s.client.Close() }

const webhookPermAddVersion = "secretmanager.versions.add"

// checkCanAdd asks Secret Manager whether the caller may add versions,
// without adding one.
func (s *webhookSecretStore) checkCanAdd(ctx context.Context) error {
	perms, err := s.client.IAM(s.secret).TestPermissions(ctx, []string{webhookPermAddVersion})
	if err != nil {
		return fmt.Errorf("--secret-to %s: checking access: %w", s.secret, err)
	}
	if !slices.Contains(perms, webhookPermAddVersion) {
		return fmt.Errorf("--secret-to %s: you may not add versions to it (%s; e.g. roles/secretmanager.secretVersionAdder)", s.secret, webhookPermAddVersion)
	}
	return nil
}

var webhooksCRC = crc32.MakeTable(crc32.Castagnoli)

// latest returns the name and data of the secret's latest version.
func (s *webhookSecretStore) latest(ctx context.Context) (string, []byte, error) {
	v, err := s.client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: s.secret + "/versions/latest"})
	if err != nil {
		return "", nil, fmt.Errorf("--secret-to %s: reading the latest version: %w", s.secret, err)
	}
	data := v.GetPayload().GetData()
	if sum := v.GetPayload().DataCrc32C; sum != nil && *sum != int64(crc32.Checksum(data, webhooksCRC)) {
		return "", nil, fmt.Errorf("--secret-to %s: %s arrived corrupted (CRC32C mismatch)", s.secret, v.GetName())
	}
	return v.GetName(), data, nil
}

// created returns when a version was added.
func (s *webhookSecretStore) created(ctx context.Context, version string) (time.Time, error) {
	v, err := s.client.GetSecretVersion(ctx, &secretmanagerpb.GetSecretVersionRequest{Name: version})
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", version, err)
	}
	return v.GetCreateTime().AsTime(), nil
}

// add adds data as the secret's new version and returns the version's name.
// Transient failures are retried: a duplicate version with the same data is
// harmless, a lost secret is not.
func (s *webhookSecretStore) add(ctx context.Context, data []byte) (string, error) {
	sum := int64(crc32.Checksum(data, webhooksCRC))
	v, err := s.client.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
		Parent:  s.secret,
		Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &sum},
	}, gax.WithRetry(func() gax.Retryer {
		return gax.OnCodes([]codes.Code{codes.Unavailable, codes.ResourceExhausted, codes.Internal}, gax.Backoff{
			Initial: 500 * time.Millisecond, Max: 8 * time.Second, Multiplier: 2,
		})
	}))
	if err != nil {
		return "", fmt.Errorf("--secret-to %s: adding a version: %w", s.secret, err)
	}
	return v.GetName(), nil
}
