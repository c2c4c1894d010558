// Command bare is the floor of the HTTP benchmarks: a net/http server that
// reads the request body and answers 200, with no verification, no claim and
// no publish. It ignores signatures, so `geminihook send` counts every
// delivery as accepted.
//
//	PORT=18081 bare
package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", port))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"published"}`+"\n")
	})))
}
