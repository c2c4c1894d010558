// Command subscriber serves the example's HandleGeminiEvent function on
// PORT (default 8080) for local runs, as Cloud Run's generated main does.
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/geminihook/geminihook/examples/subscriber"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if os.Getenv("FUNCTION_TARGET") == "" {
		os.Setenv("FUNCTION_TARGET", subscriber.FunctionName)
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("subscriber: %v", err)
	}
}
