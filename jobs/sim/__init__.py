"""The simulated market: the embedded default data source, the benchmark generator, and the engine
behind the fake marketplace servers."""
