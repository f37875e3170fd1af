defmodule DurableStash.Rendezvous do
  @moduledoc """
  Rendezvous (highest random weight) hashing: which daemon owns a session.

  Every daemon gets a score for the session key, and the highest score wins:

      score(daemon, key) = first 8 bytes of SHA-256(daemon <> <<0>> <> key), big-endian unsigned

  `daemon` is the address exactly as configured (`"10.0.0.5:7379"`), so every Phoenix node
  must list the same addresses spelled the same way; the order of the list does not matter.
  Adding or removing a daemon moves only the sessions that it wins or held (about 1/n of
  them); every other session keeps its daemon. A client in another language computes the same
  owner with any SHA-256.

  There is no fallback to the next daemon when the owner is down: a second daemon would serve
  the session from the store while the first may still hold it in memory and answer stale
  reads when it returns. The store's conditional writes keep writes safe either way, but
  reads are only fresh from the owner, so a down owner means `{:error, socket}` for its
  sessions until it is back.

      iex> DurableStash.Rendezvous.owner(["a:1", "b:2", "c:3"], "session-1")
      "a:1"
      iex> DurableStash.Rendezvous.owner(["c:3", "b:2", "a:1"], "session-1")
      "a:1"
  """

  @doc """
  Returns the daemon of `daemons` that owns `key`. A tie (a 64-bit collision) goes to the
  larger address, so the answer never depends on the order of the list.
  """
  @spec owner([String.t(), ...], binary()) :: String.t()
  def owner([_ | _] = daemons, key) when is_binary(key) do
    Enum.max_by(daemons, fn daemon -> {score(daemon, key), daemon} end)
  end

  @doc "The score of `daemon` for `key` (see the module documentation)."
  @spec score(String.t(), binary()) :: non_neg_integer()
  def score(daemon, key) when is_binary(daemon) and is_binary(key) do
    <<score::unsigned-big-64, _::binary>> = :crypto.hash(:sha256, [daemon, 0, key])
    score
  end
end
