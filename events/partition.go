package events

// Partition returns the partition, in [0, partitions), that Kafka's default
// partitioner (the Java client's, and kafka-go's Murmur2Balancer) picks
// for key: the positive murmur2 hash of key modulo partitions. membus uses
// it, so keys land on the same partitions in memory and in Kafka. It
// returns 0 when partitions is below 2. A nil key has no partition of its
// own; callers spread such messages as they like.
func Partition(key []byte, partitions int) int {
	if partitions < 2 {
		return 0
	}
	return int((murmur2(key) & 0x7fffffff) % uint32(partitions))
}

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed, as in
// org.apache.kafka.common.utils.Utils.murmur2.
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(data)
	h := seed ^ uint32(n)
	i := 0
	for ; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch n - i {
	case 3:
		h ^= uint32(data[i+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[i+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[i])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
