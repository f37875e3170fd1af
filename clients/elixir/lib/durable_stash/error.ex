defmodule DurableStash.Error do
  @moduledoc """
  The one error type of the client: a daemon's error reply or a failure to reach it.

  `kind` says which, so code can match on it without parsing text:

    * a string — the daemon answered with an error reply, and `kind` is its first word:
      `"ERR"`, `"BADVALUE"`, `"LIMIT"`, `"NOAUTH"`, `"WRONGPASS"`, `"UNAVAILABLE"`,
      `"CORRUPT"`, `"TIMEOUT"`, `"IOERR"` (docs/PROTOCOL.md, "Errors");
    * an atom — the client gave up: `:timeout` (no reply in time), `:disconnected` (no
      connection to that daemon right now), `:closed` (the connection dropped while waiting),
      `:not_started` (the client is not running), `:protocol` (bytes that are not RESP).

  `message` is written for a human and never contains session values.
  """

  defexception [:kind, :message]

  @type t :: %__MODULE__{kind: String.t() | atom(), message: String.t()}

  @doc """
  Builds the error for a RESP error line such as `"BADVALUE key \\"x\\": a tuple ..."`.

      iex> DurableStash.Error.from_reply("LIMIT value of key count is 70000 bytes")
      %DurableStash.Error{kind: "LIMIT", message: "LIMIT value of key count is 70000 bytes"}
  """
  @spec from_reply(String.t()) :: t()
  def from_reply(line) when is_binary(line) do
    kind =
      case :binary.split(line, " ") do
        [word | _] -> word
      end

    %__MODULE__{kind: kind, message: line}
  end

  @doc "Builds a client-side error of the given kind."
  @spec client(atom(), String.t()) :: t()
  def client(kind, message) when is_atom(kind) and is_binary(message) do
    %__MODULE__{kind: kind, message: message}
  end
end
