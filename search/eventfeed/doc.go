// Package eventfeed keeps a [search.Index] in step with a stream of change
// events from the events block ([events.Receiver]: Kafka through
// events/kafkabus, or events/membus in process).
//
// Each message carries one [search.ChangeEvent], keyed by entity ID so that
// the changes of one entity stay in one partition and in order ([Encode]
// writes this format, [Decode] reads it; Options.Decode accepts any other,
// such as a CDC envelope). Redelivered and reordered events are harmless:
// the index applies an event only when its version is newer than what it
// holds.
//
// # Snapshots and offsets
//
// Without a snapshot path, the feed commits every message once it is
// applied; after a restart the index must be rebuilt (search.Index.Rebuild)
// and the group resumes where it stopped. With Options.SnapshotPath, the
// feed commits only at checkpoints: it writes the index to the snapshot
// file (atomically, synced) and then commits the messages the snapshot
// contains. After a crash, the restarted process loads the snapshot
// ([Feed.Restore]) and the group resumes at or before the snapshot's
// position, so nothing is lost, and whatever is delivered twice is ignored
// by version. Give each index replica its own consumer group: every
// replica needs every event.
package eventfeed
