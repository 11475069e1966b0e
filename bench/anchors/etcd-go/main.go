// The etcd anchors of the handoff benchmark, built from Debian's golang-etcd-server-dev in
// GOPATH mode (no module download): etcd's own Go concurrency.Election, and the Go-client
// floor, a delete seen by a watch on a second client; and, for the scale benchmark, how long
// N candidates take to stand in line on one Go client.
//
// Usage: etcd-anchor -endpoints 127.0.0.1:2379 -mode election|floor -waiter settled|fresh -rounds N
//
//	etcd-anchor -endpoints 127.0.0.1:2379 -mode register|register-floor -candidates N
//
// Prints one JSON object: {"peer":…,"waiter":…,"samples":[ms…]}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

const settle = 250 * time.Millisecond

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated etcd endpoints")
	mode := flag.String("mode", "election", "election or floor")
	waiter := flag.String("waiter", "settled", "settled (in line for 250 ms) or fresh")
	rounds := flag.Int("rounds", 100, "measured rounds")
	warmup := flag.Int("warmup", 10, "rounds run first and not measured")
	candidates := flag.Int("candidates", 1000, "candidates of the register modes")
	flag.Parse()

	if strings.HasPrefix(*mode, "register") {
		client := dial(*endpoints)
		defer client.Close()
		peer, took := register(client, *candidates, *mode == "register-floor")
		out, _ := json.Marshal(map[string]any{"peer": peer, "samples": []float64{took}})
		fmt.Println(string(out))
		return
	}

	clients := [2]*clientv3.Client{dial(*endpoints), dial(*endpoints)}
	defer clients[0].Close()
	defer clients[1].Close()

	var round func(i int) time.Duration
	switch *mode {
	case "election":
		round = elections(clients, *waiter == "fresh")
	case "floor":
		round = floor(clients, *waiter == "fresh")
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
	samples := make([]float64, 0, *rounds)
	for i := 0; i < *warmup+*rounds; i++ {
		took := round(i)
		if i >= *warmup {
			samples = append(samples, float64(took.Nanoseconds())/1e6)
		}
	}
	peer := "etcd Go concurrency.Election"
	if *mode == "floor" {
		peer = "floor (Go client)"
	}
	out, _ := json.Marshal(map[string]any{"peer": peer, "waiter": *waiter, "samples": samples})
	fmt.Println(string(out))
}

func dial(endpoints string) *clientv3.Client {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(endpoints, ","),
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		fail(err)
	}
	return client
}

// elections hands leadership back and forth between two sessions, each on its own client,
// as etcd's documentation shows concurrency.Election used.
func elections(clients [2]*clientv3.Client, fresh bool) func(int) time.Duration {
	ctx := context.Background()
	name := fmt.Sprintf("/bench-go-election-%d", time.Now().UnixNano())
	var sessions [2]*concurrency.Session
	var elections [2]*concurrency.Election
	for i, client := range clients {
		session, err := concurrency.NewSession(client, concurrency.WithTTL(10))
		if err != nil {
			fail(err)
		}
		sessions[i] = session
		elections[i] = concurrency.NewElection(session, name)
	}
	if err := elections[0].Campaign(ctx, "v0"); err != nil {
		fail(err)
	}
	leader := 0
	return func(i int) time.Duration {
		next := 1 - leader
		won := make(chan error, 1)
		go func() { won <- elections[next].Campaign(ctx, fmt.Sprintf("v%d", i+1)) }()
		// In line: both keys are visible under the election's prefix.
		for {
			response, err := clients[leader].Get(ctx, name+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				fail(err)
			}
			if response.Count >= 2 {
				break
			}
		}
		if !fresh {
			time.Sleep(settle)
		}
		started := time.Now()
		if err := elections[leader].Resign(ctx); err != nil {
			fail(err)
		}
		if err := <-won; err != nil {
			fail(err)
		}
		took := time.Since(started)
		leader = next
		return took
	}
}

// floor puts a key on one client, watches it on the other, and times the delete from the
// call to the event: the least a handoff can cost on this server and this client. Unless
// fresh, the delete waits 250 ms after the watch is set, as a settled waiter does.
func floor(clients [2]*clientv3.Client, fresh bool) func(int) time.Duration {
	ctx := context.Background()
	return func(i int) time.Duration {
		key := fmt.Sprintf("/bench-go-floor/%d-%d", time.Now().UnixNano(), i)
		put, err := clients[0].Put(ctx, key, "x")
		if err != nil {
			fail(err)
		}
		watchCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		events := clients[1].Watch(watchCtx, key, clientv3.WithRev(put.Header.Revision+1), clientv3.WithCreatedNotify())
		// Timed from the moment the watch is registered (its created notice), or settled.
		<-events
		if !fresh {
			time.Sleep(settle)
		}
		started := time.Now()
		if _, err := clients[0].Delete(ctx, key); err != nil {
			fail(err)
		}
		for response := range events {
			for _, event := range response.Events {
				if event.Type == clientv3.EventTypeDelete {
					return time.Since(started)
				}
			}
		}
		fail(fmt.Errorf("the watch ended before the delete was seen"))
		return 0
	}
}

// register puts n candidates in line at once on one client and returns the milliseconds until
// the last stood there. The floor grants a lease and puts a key on it for each, the least a
// candidate of an election with a lease each must write; the election runs n goroutines of
// concurrency.Election's Campaign, each on a session of its own, until all n keys exist (a
// Campaign returns only when it wins, so its keys are counted on the server).
func register(client *clientv3.Client, n int, floor bool) (string, float64) {
	ctx := context.Background()
	name := fmt.Sprintf("/bench-go-scale-%d", time.Now().UnixNano())
	started := time.Now()
	var wait sync.WaitGroup
	for i := 0; i < n; i++ {
		wait.Add(1)
		go func(i int) {
			defer wait.Done()
			if floor {
				lease, err := client.Grant(ctx, 10)
				if err != nil {
					fail(err)
				}
				key := fmt.Sprintf("%s/%x", name, lease.ID)
				if _, err := client.Put(ctx, key, "x", clientv3.WithLease(lease.ID)); err != nil {
					fail(err)
				}
				return
			}
			session, err := concurrency.NewSession(client, concurrency.WithTTL(10))
			if err != nil {
				fail(err)
			}
			election := concurrency.NewElection(session, name)
			go election.Campaign(ctx, fmt.Sprintf("c%d", i))
		}(i)
	}
	wait.Wait()
	if floor {
		return "floor (Go client): lease + put each", float64(time.Since(started).Nanoseconds()) / 1e6
	}
	for {
		response, err := client.Get(ctx, name+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			fail(err)
		}
		if response.Count >= int64(n) {
			return "etcd Go concurrency.Election", float64(time.Since(started).Nanoseconds()) / 1e6
		}
		time.Sleep(time.Millisecond)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "etcd-anchor:", err)
	os.Exit(1)
}
