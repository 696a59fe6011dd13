module github.com/cable-archive/cable

go 1.26.0
