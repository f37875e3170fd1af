defmodule DurableStash.MixProject do
  use Mix.Project

  @version "0.1.0"
  @source_url "https://github.com/durable-stash/durable-stash"

  def project do
    [
      app: :durable_stash,
      version: @version,
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      description:
        "A LiveStash adapter that keeps Phoenix LiveView state per browser session " <>
          "in durable-stashd, so it survives reconnects, crashes and redeploys.",
      package: [
        licenses: ["Apache-2.0"],
        links: %{"Source" => @source_url},
        files: ~w(lib mix.exs .formatter.exs README.md)
      ],
      docs: [main: "DurableStash", extras: ["README.md"]]
    ]
  end

  # No application callback: LiveStash starts the client through DurableStash.child_spec/1.
  def application do
    [extra_applications: [:logger, :crypto]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  # Users get live_stash and phoenix_live_view from Hex, which publishes them from this list
  # (a Phoenix app always has Hex). Without the Hex archive (this repository's CI: Debian's
  # Elixir, no registry) listing any Hex package makes every Mix command fail with "Could not
  # find an SCM for dependency", and in :test the stand-ins in test/support replace them, so
  # the list is empty there; the adapter only calls these modules at runtime, never at compile
  # time, so it builds the same either way.
  defp deps do
    if Code.ensure_loaded?(Hex) and Mix.env() != :test do
      [
        {:live_stash, "~> 1.0"},
        {:phoenix_live_view, "~> 1.0"}
      ]
    else
      []
    end
  end
end
