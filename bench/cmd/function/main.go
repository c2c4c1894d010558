// Command function is the receiver as Cloud Run's Go buildpack deploys it:
// a main that imports the function's package (which registers
// GeminiWebhook in init) and starts the functions framework on $PORT with
// FUNCTION_TARGET. The harness measures its size and cold start; with
// K_SERVICE set, as on Cloud Run, the receiver is built during init.
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "github.com/geminihook/geminihook"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatal(err)
	}
}
