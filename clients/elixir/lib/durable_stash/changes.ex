defmodule DurableStash.Changes do
  @moduledoc """
  Remembers, per stored key, the value known to be stored, so that a stash sends only the
  keys whose values changed. It is set after `recover_state/1` (the assigns as recovered,
  defaults included: see `DurableStash.Recovery`) and after every acknowledged stash.

  The "fingerprint" of a value is the value itself rather than a hash of it. The remembered
  term is the very term in the assigns, shared, so it costs no memory until the assign is
  replaced; an unchanged assign is recognised by identity in constant time, where a hash would
  walk the whole value on every stash; and the comparison is exact (`===`), so a hash
  collision can never make a change go unsent.
  """

  @typedoc "The value known to be stored, per key."
  @type t :: %{optional(atom()) => term()}

  @doc "Nothing known to be stored."
  @spec new() :: t()
  def new, do: %{}

  @doc """
  The entries of `candidates` (`{key, value}`) whose value differs from the one remembered.

      iex> known = DurableStash.Changes.remember(DurableStash.Changes.new(), [count: 1, theme: "dark"])
      iex> DurableStash.Changes.changed(known, count: 2, theme: "dark", draft: "")
      [count: 2, draft: ""]
      iex> DurableStash.Changes.changed(known, count: 1.0)
      [count: 1.0]
  """
  @spec changed(t(), [{atom(), term()}]) :: [{atom(), term()}]
  def changed(known, candidates) do
    Enum.reject(candidates, fn {key, value} -> match?(%{^key => ^value}, known) end)
  end

  @doc "Records `pairs` (`{key, value}`) as stored."
  @spec remember(t(), [{atom(), term()}]) :: t()
  def remember(known, pairs), do: Enum.into(pairs, known)
end
