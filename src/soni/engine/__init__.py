"""The flow engine: compiles bot flows to a LangGraph graph and runs them."""
