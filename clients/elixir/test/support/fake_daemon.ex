defmodule DurableStash.FakeDaemon do
  @moduledoc """
  A scripted peer for connection tests: the test accepts the client's connections, reads
  its requests and writes replies byte by byte, so drops, stalls and stray replies happen
  exactly when the test says.
  """

  alias DurableStash.Protocol

  @doc "Listens on a free loopback port; returns `{listen_socket, port}`."
  def listen do
    {:ok, listen} =
      :gen_tcp.listen(0, [:binary, active: false, reuseaddr: true, ip: {127, 0, 0, 1}])

    {:ok, port} = :inet.port(listen)
    {listen, port}
  end

  @doc "Waits for the client to connect."
  def accept(listen) do
    {:ok, socket} = :gen_tcp.accept(listen, 5_000)
    socket
  end

  @doc "Reads `count` requests; returns them as lists of arguments."
  def requests(socket, count), do: requests(socket, count, "", [])

  defp requests(_socket, 0, "", acc), do: Enum.reverse(acc)

  defp requests(socket, count, buffer, acc) do
    case count > 0 && Protocol.parse(buffer) do
      {:ok, request, rest} ->
        requests(socket, count - 1, rest, [request | acc])

      _incomplete ->
        {:ok, data} = :gen_tcp.recv(socket, 0, 5_000)
        requests(socket, count, buffer <> data, acc)
    end
  end

  @doc "Writes raw reply bytes."
  def reply(socket, bytes), do: :ok = :gen_tcp.send(socket, bytes)
end
