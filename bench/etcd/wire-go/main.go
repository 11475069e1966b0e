// The Go client's side of bench/etcd/wire.ts: a writer client that puts and deletes keys on
// command, and a reader client whose watch on the probe's prefix reports each delete it
// sees, all stamped with the wall clock so that the probe can compare them with its own.
// Built from Debian's golang-etcd-server-dev in GOPATH mode.
//
// Usage: wire-go -endpoints 127.0.0.1:2379 -prefix wire-1/
// Reads commands, one a line:   put KEY | del KEY
// Writes, one a line:           ok CALL_NS ANSWER_NS   (after each command)
//                               event KEY NS           (each delete the watch sees)
//                               ready                  (once the watch is created)
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated etcd endpoints")
	prefix := flag.String("prefix", "wire/", "the prefix to watch")
	flag.Parse()

	ctx := context.Background()
	dial := func() *clientv3.Client {
		client, err := clientv3.New(clientv3.Config{
			Endpoints:   strings.Split(*endpoints, ","),
			DialTimeout: 5 * time.Second,
		})
		if err != nil {
			fail(err)
		}
		return client
	}
	writer, reader := dial(), dial()
	defer writer.Close()
	defer reader.Close()

	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		fmt.Printf(format+"\n", args...)
		out.Unlock()
	}
	events := reader.Watch(ctx, *prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	<-events
	go func() {
		for response := range events {
			now := time.Now().UnixNano()
			for _, event := range response.Events {
				if event.Type == clientv3.EventTypeDelete {
					say("event %s %d", event.Kv.Key, now)
				}
			}
		}
	}()
	say("ready")

	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		var command, key string
		if _, err := fmt.Sscan(lines.Text(), &command, &key); err != nil {
			fail(err)
		}
		call := time.Now()
		var err error
		switch command {
		case "put":
			_, err = writer.Put(ctx, key, "x")
		case "del":
			_, err = writer.Delete(ctx, key)
		default:
			err = fmt.Errorf("unknown command %q", command)
		}
		answer := time.Now()
		if err != nil {
			fail(err)
		}
		say("ok %d %d", call.UnixNano(), answer.UnixNano())
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
