module github.com/sysblocks/sysblocks/bench

go 1.26

replace github.com/sysblocks/sysblocks => ../
