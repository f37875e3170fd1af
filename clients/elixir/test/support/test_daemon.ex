defmodule DurableStash.TestDaemon do
  @moduledoc """
  Real `durable-stashd` processes for the tests, run through `DurableStash.Embedded` (memory
  store) under the test's supervisor, and a raw connection to inspect one daemon.
  """

  import ExUnit.Callbacks, only: [start_supervised!: 2, stop_supervised!: 1]

  alias DurableStash.{Connection, Embedded}

  @doc "The daemon executable: $DURABLE_STASHD, else the repository's build/durable-stashd."
  def path do
    path =
      System.get_env("DURABLE_STASHD") ||
        Path.expand("../../../../build/durable-stashd", __DIR__)

    if File.regular?(path) do
      path
    else
      raise "durable-stashd not found at #{path}: build it and set DURABLE_STASHD " <>
              "(scripts/test-elixir.sh does)"
    end
  end

  @doc """
  Starts a daemon under the test supervisor and returns `{id, address}`. Options go to
  `DurableStash.Embedded` (e.g. `port:` to reuse one, `args:`, `auth_token:`).
  """
  def start(opts \\ []) do
    id = Keyword.get(opts, :id, {__MODULE__, System.unique_integer([:positive])})
    name = :"durable_stash_test_daemon_#{System.unique_integer([:positive])}"

    opts =
      Keyword.merge(
        [name: name, path: path(), store: "memory:", stop_timeout: 10_000],
        Keyword.delete(opts, :id)
      )

    start_supervised!({Embedded, opts}, id: id)
    {id, Embedded.address(name), name}
  end

  @doc "Stops a daemon started by `start/1` and waits until it has exited."
  def stop(id), do: stop_supervised!(id)

  @doc "A port nobody listens on right now."
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1}, reuseaddr: true)
    {:ok, port} = :inet.port(socket)
    :ok = :gen_tcp.close(socket)
    port
  end

  @doc """
  Sends `commands` to the daemon at `address` on a fresh connection (JSON codec unless
  the commands say otherwise) and returns the replies.
  """
  def raw(address, commands, token \\ nil) do
    [host, port] = String.split(address, ":")
    auth = if token, do: [["AUTH", token]], else: []
    endpoint = {~c"#{host}", String.to_integer(port)}
    {:ok, replies} = Connection.exchange(endpoint, auth ++ commands, 5_000)
    Enum.drop(replies, length(auth))
  end

  @doc "The stored session as JSON text (`DS.DUMP`), or nil."
  def dump(address, session_key) do
    [dump] = raw(address, [["DS.DUMP", session_key]])
    dump
  end

  @doc "One field of the daemon's INFO, as an integer."
  def info(address, field, token \\ nil) do
    [info] = raw(address, [["INFO"]], token)

    info
    |> String.split("\r\n")
    |> Enum.find_value(fn line ->
      case String.split(line, ":", parts: 2) do
        [^field, value] -> String.to_integer(value)
        _ -> nil
      end
    end)
  end

  @doc "The daemon's OS process id (INFO server)."
  def os_pid(address, token \\ nil), do: info(address, "process_id", token)

  @doc "Sends a signal (e.g. \"STOP\", \"CONT\") to an OS process."
  def signal(os_pid, signal) do
    {_, 0} = System.cmd("/bin/sh", ["-c", "kill -#{signal} #{os_pid}"])
    :ok
  end

  @doc """
  Stops (SIGSTOP) an OS process and returns once the kernel shows it stopped: the signal is
  delivered asynchronously, and a request sent before it takes effect would still be served.
  """
  def suspend(os_pid) do
    signal(os_pid, "STOP")
    eventually(fn -> process_state(os_pid) == "T" end)
    :ok
  end

  defp process_state(os_pid) do
    # /proc/PID/stat: "PID (name) STATE ..."; the name may contain spaces, so split after ")".
    case File.read("/proc/#{os_pid}/stat") do
      {:ok, stat} -> stat |> String.split(") ") |> List.last() |> String.first()
      {:error, _} -> nil
    end
  end

  @doc "Whether an OS process exists."
  def alive?(os_pid) do
    {_, status} = System.cmd("/bin/sh", ["-c", "kill -0 #{os_pid} 2>/dev/null"])
    status == 0
  end

  @doc """
  Calls `fun` until it returns a truthy value, at most `tries` times, 20 ms apart; returns
  that value or flunks. Only for conditions no event announces (a background reconnect).
  """
  def eventually(fun, tries \\ 250) do
    case fun.() do
      result when result in [nil, false] and tries > 1 ->
        Process.sleep(20)
        eventually(fun, tries - 1)

      result when result in [nil, false] ->
        ExUnit.Assertions.flunk("condition not met in time")

      result ->
        result
    end
  end
end
