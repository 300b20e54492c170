package main

func trendingBench(seed uint64) error { return nil }
