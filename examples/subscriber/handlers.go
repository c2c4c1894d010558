package subscriber

import (
	"context"
	"log/slog"

	"github.com/geminihook/geminihook/event"
)

// Handlers returns what this subscriber does with each event type: the part
// to replace. Each handler here only logs what a real one would do. Delete
// the types you do not care about (or filter them out in the
// subscription), and see Handler for when to return an error.
func Handlers() map[event.Type]Handler {
	return map[event.Type]Handler{
		event.BatchSucceeded:            batchSucceeded,
		event.BatchFailed:               batchFailed,
		event.BatchExpired:              batchEnded,
		event.BatchCancelled:            batchEnded,
		event.InteractionRequiresAction: interactionRequiresAction,
		event.InteractionCompleted:      interactionCompleted,
		event.InteractionFailed:         interactionFailed,
		event.InteractionCancelled:      interactionCancelled,
		event.VideoGenerated:            videoGenerated,
	}
}

func batchSucceeded(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	b, _ := ev.Batch()
	// A real subscriber reads the results, e.g. with cloud.google.com/go/storage
	// for a gs:// URI, or the Gemini Files API for a files/ name.
	log.InfoContext(ctx, "batch succeeded: download its results from "+b.OutputFileURI,
		"batch", b.ID, "output_file_uri", b.OutputFileURI)
	return nil
}

func batchFailed(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	b, _ := ev.Batch()
	log.WarnContext(ctx, "batch failed: alert its owner, or resubmit",
		"batch", b.ID, "error_code", b.ErrorCode, "error_message", b.ErrorMessage)
	return nil
}

func batchEnded(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	b, _ := ev.Batch()
	log.InfoContext(ctx, "batch ended without results ("+string(ev.Type)+"): resubmit if still wanted",
		"batch", b.ID)
	return nil
}

func interactionRequiresAction(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	i, _ := ev.Interaction()
	log.InfoContext(ctx, "interaction requires action: fetch it and answer its pending function call",
		"interaction", i.ID)
	return nil
}

func interactionCompleted(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	i, _ := ev.Interaction()
	log.InfoContext(ctx, "interaction completed: fetch its output",
		"interaction", i.ID)
	return nil
}

func interactionFailed(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	i, _ := ev.Interaction()
	log.WarnContext(ctx, "interaction failed: alert its owner",
		"interaction", i.ID, "error_code", i.ErrorCode, "error_message", i.ErrorMessage)
	return nil
}

func interactionCancelled(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	i, _ := ev.Interaction()
	log.InfoContext(ctx, "interaction cancelled", "interaction", i.ID)
	return nil
}

func videoGenerated(ctx context.Context, log *slog.Logger, ev *event.Event) error {
	v, _ := ev.Video()
	log.InfoContext(ctx, "video generated: download it from "+v.OutputFileURI,
		"operation", v.ID, "output_file_uri", v.OutputFileURI, "file_name", v.FileName)
	return nil
}
