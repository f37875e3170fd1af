defmodule DurableStash.Protocol do
  @moduledoc """
  RESP2, the Redis serialization protocol that `durable-stashd` speaks: encoding requests and
  decoding replies. Pure functions, no processes and no I/O.

  A request is an array of bulk strings:

      iex> DurableStash.Protocol.pack(["PING"]) |> IO.iodata_to_binary()
      "*1\\r\\n$4\\r\\nPING\\r\\n"

  Replies decode to Elixir terms: simple strings and bulk strings to binaries, integers to
  integers, arrays to lists, null bulk strings and null arrays to `nil`, and error replies to
  `DurableStash.Error` structs (returned, not raised: an error reply is a normal answer).

      iex> DurableStash.Protocol.parse("+OK\\r\\n")
      {:ok, "OK", ""}

      iex> DurableStash.Protocol.parse("*2\\r\\n$9\\r\\nrecovered\\r\\n:1\\r\\n+PONG\\r\\n")
      {:ok, ["recovered", 1], "+PONG\\r\\n"}

      iex> DurableStash.Protocol.parse("-NOAUTH Authentication required.\\r\\n")
      {:ok, %DurableStash.Error{kind: "NOAUTH", message: "NOAUTH Authentication required."}, ""}

  Input that ends in the middle of a reply gives a continuation, to be called with the bytes
  that follow:

      iex> {:continuation, more} = DurableStash.Protocol.parse("$5\\r\\nhel")
      iex> more.("lo\\r\\n")
      {:ok, "hello", ""}

  Bytes that cannot be RESP raise a `DurableStash.Error` of kind `:protocol`; a connection
  that sees one must be closed, because RESP cannot find the start of the next reply.
  """

  alias DurableStash.Error

  @typedoc "A decoded reply."
  @type reply :: binary() | integer() | nil | Error.t() | [reply()]

  @typedoc "The result of `parse/1`."
  @type parse_result :: {:ok, reply(), rest :: binary()} | {:continuation, continuation()}

  @typedoc "Takes the bytes that follow an incomplete reply."
  @type continuation :: (binary() -> parse_result())

  @crlf "\r\n"

  @doc """
  Encodes one request (a command and its arguments) as iodata. Integers are sent as their
  decimal text.
  """
  @spec pack([binary() | integer()]) :: iodata()
  def pack(args) when is_list(args) do
    [?*, Integer.to_string(length(args)), @crlf | Enum.map(args, &pack_bulk/1)]
  end

  defp pack_bulk(arg) when is_binary(arg),
    do: [?$, Integer.to_string(byte_size(arg)), @crlf, arg, @crlf]

  defp pack_bulk(arg) when is_integer(arg), do: pack_bulk(Integer.to_string(arg))

  @doc """
  Decodes the first reply in `data`.

  Returns `{:ok, reply, rest}` with the bytes after it, or `{:continuation, fun}` when `data`
  holds only the beginning of a reply. The continuation keeps the bytes seen so far and parses
  again from the start of the reply: replies here are small (values are capped by the daemon),
  so simplicity wins over a resumable state machine.
  """
  @spec parse(binary()) :: parse_result()
  def parse(data) when is_binary(data) do
    case value(data) do
      {:ok, reply, rest} -> {:ok, reply, rest}
      :incomplete -> {:continuation, fn more -> parse(data <> more) end}
    end
  end

  defp value(<<?+, rest::binary>>), do: line(rest)

  defp value(<<?-, rest::binary>>) do
    with {:ok, text, rest} <- line(rest), do: {:ok, Error.from_reply(text), rest}
  end

  defp value(<<?:, rest::binary>>) do
    with {:ok, text, rest} <- line(rest), do: {:ok, integer!(text), rest}
  end

  defp value(<<?$, rest::binary>>) do
    with {:ok, text, rest} <- line(rest), do: bulk(integer!(text), rest)
  end

  defp value(<<?*, rest::binary>>) do
    with {:ok, text, rest} <- line(rest), do: array(integer!(text), rest)
  end

  defp value(<<>>), do: :incomplete

  defp value(<<byte, _::binary>>),
    do: raise(Error.client(:protocol, "unexpected reply type byte #{inspect(<<byte>>)}"))

  defp bulk(-1, rest), do: {:ok, nil, rest}

  defp bulk(size, rest) when size >= 0 do
    case rest do
      <<data::binary-size(size), @crlf, rest::binary>> -> {:ok, data, rest}
      _ when byte_size(rest) < size + 2 -> :incomplete
      _ -> raise Error.client(:protocol, "bulk string not terminated by CRLF")
    end
  end

  defp bulk(size, _rest), do: raise(Error.client(:protocol, "invalid bulk length #{size}"))

  defp array(-1, rest), do: {:ok, nil, rest}
  defp array(count, rest) when count >= 0, do: elements(count, rest, [])
  defp array(count, _rest), do: raise(Error.client(:protocol, "invalid array length #{count}"))

  defp elements(0, rest, acc), do: {:ok, Enum.reverse(acc), rest}

  defp elements(count, rest, acc) do
    with {:ok, element, rest} <- value(rest), do: elements(count - 1, rest, [element | acc])
  end

  defp line(data) do
    case :binary.match(data, @crlf) do
      {at, 2} ->
        {:ok, binary_part(data, 0, at), binary_part(data, at + 2, byte_size(data) - at - 2)}

      :nomatch ->
        :incomplete
    end
  end

  defp integer!(text) do
    case Integer.parse(text) do
      {integer, ""} -> integer
      _ -> raise Error.client(:protocol, "invalid integer #{inspect(text)}")
    end
  end
end
