defmodule DurableStash.Embedded do
  @moduledoc """
  Runs `durable-stashd` as a supervised child of the application ("embedded mode"), so that
  a developer can run a Phoenix app with nothing else running.

  With `config :durable_stash, daemons: :embedded` the client starts it before its
  connections. It runs the executable from `:daemon_path` (or `durable-stashd` from `PATH`)
  on `127.0.0.1` and a port the OS picks, with the file store under `data_dir` (default
  `tmp/durable_stash` in the app's directory; `data_dir: :memory` uses the memory store, for
  tests). It is ready when the daemon has logged that it listens and answers `PING`.

  The daemon's log lines go to `Logger` (warnings and errors at their level, the rest at
  `:debug`). Stopping the application stops the daemon gracefully: it gets `SIGTERM`, flushes
  every accepted write, and exits before the application finishes stopping. The daemon runs
  under a small `/bin/sh` wrapper that also stops it when the BEAM dies without stopping it
  (its stdin closes), so a killed `iex` leaves no daemon holding the data directory's lock.
  If the daemon exits on its own, this process exits too and its supervisor restarts both.
  """

  use GenServer

  require Logger

  alias DurableStash.Connection

  # The wrapper: $0 is the daemon, "$@" its arguments. A watcher reads the port's stdin
  # (kept as fd 3, since background jobs get /dev/null as stdin) and sends SIGTERM when a
  # line arrives (a graceful stop from terminate/2) or at end of file (the BEAM is gone).
  # The shell exits with the daemon's status, which the port reports.
  @wrapper """
  exec 3<&0
  "$0" "$@" </dev/null &
  daemon=$!
  { read -r _ <&3; kill -TERM "$daemon" 2>/dev/null; } &
  watcher=$!
  exec 3<&-
  wait "$daemon"
  status=$?
  kill "$watcher" 2>/dev/null
  exit "$status"
  """

  @typedoc """
  Options: `:name`, `:path` (nil: look up `durable-stashd` in `PATH`), `:store`
  (`"memory:"` or `"file:PATH"`), `:port` (default 0: any free port), `:auth_token`,
  `:args` (more daemon flags), `:start_timeout` and `:stop_timeout` (ms).
  """
  @type option ::
          {:name, GenServer.name()}
          | {:path, nil | String.t()}
          | {:store, String.t()}
          | {:port, :inet.port_number()}
          | {:auth_token, nil | String.t()}
          | {:args, [String.t()]}
          | {:start_timeout, pos_integer()}
          | {:stop_timeout, pos_integer()}

  @doc "Starts the daemon and returns once it answers `PING`."
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts) do
    GenServer.start_link(__MODULE__, opts, Keyword.take(opts, [:name]))
  end

  @doc """
  A child spec whose shutdown time covers the daemon's graceful stop (`:stop_timeout`,
  default 15 s).
  """
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :name, __MODULE__),
      start: {__MODULE__, :start_link, [opts]},
      shutdown: Keyword.get(opts, :stop_timeout, 15_000) + 1_000
    }
  end

  @doc "Where the daemon listens: `{:ok, {host, port}}`."
  @spec endpoint(GenServer.server()) :: {:ok, {charlist(), :inet.port_number()}}
  def endpoint(server), do: GenServer.call(server, :endpoint)

  @doc "The daemon's address as a `\"host:port\"` string."
  @spec address(GenServer.server()) :: String.t()
  def address(server) do
    {:ok, {host, port}} = endpoint(server)
    "#{host}:#{port}"
  end

  @impl true
  def init(opts) do
    # Trap exits so that terminate/2 runs when the supervisor stops us: it stops the daemon.
    Process.flag(:trap_exit, true)

    path = executable!(Keyword.get(opts, :path))
    store = Keyword.get(opts, :store, "memory:")
    prepare_store!(store)

    args =
      ["--bind", "127.0.0.1", "--port", to_string(Keyword.get(opts, :port, 0))] ++
        ["--store", store] ++ Keyword.get(opts, :args, [])

    # The token goes through the environment, never the command line (visible in ps). Without
    # one, a DURABLE_STASH_AUTH_TOKEN the app's environment may hold for other daemons is
    # removed, so the embedded daemon asks for exactly what the client sends.
    token = Keyword.get(opts, :auth_token)
    env = [{~c"DURABLE_STASH_AUTH_TOKEN", if(token, do: String.to_charlist(token), else: false)}]

    port =
      Port.open({:spawn_executable, "/bin/sh"}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        line: 8_192,
        args: ["-c", @wrapper, path | args],
        env: env
      ])

    state = %{
      port: port,
      endpoint: nil,
      stop_timeout: Keyword.get(opts, :stop_timeout, 15_000)
    }

    deadline = System.monotonic_time(:millisecond) + Keyword.get(opts, :start_timeout, 10_000)

    with {:ok, endpoint} <- await_listening(state, deadline, []),
         :ok <- ping(endpoint, Keyword.get(opts, :auth_token), deadline) do
      {:ok, %{state | endpoint: endpoint}}
    else
      {:error, message} ->
        stop_daemon(state)
        {:stop, {:durable_stashd_failed_to_start, message}}
    end
  end

  @impl true
  def handle_call(:endpoint, _from, state), do: {:reply, {:ok, state.endpoint}, state}

  @impl true
  def handle_info({port, {:data, {_eol, line}}}, %{port: port} = state) do
    log_line(line)
    {:noreply, state}
  end

  def handle_info({port, {:exit_status, status}}, %{port: port} = state) do
    Logger.error("DurableStash: the embedded durable-stashd exited with status #{status}")
    {:stop, {:durable_stashd_exited, status}, %{state | port: nil}}
  end

  def handle_info({:EXIT, port, _reason}, %{port: port} = state), do: {:noreply, state}
  def handle_info(_message, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, state), do: stop_daemon(state)

  # --- starting -------------------------------------------------------------------------

  defp executable!(nil) do
    System.find_executable("durable-stashd") ||
      raise ArgumentError,
            "embedded mode needs the durable-stashd executable: put it in PATH or set " <>
              ~s{config :durable_stash, daemon_path: "/path/to/durable-stashd"}
  end

  defp executable!(path) do
    if File.regular?(path) do
      Path.expand(path)
    else
      raise ArgumentError,
            "config :durable_stash, daemon_path: #{inspect(path)} is not a file; point it at " <>
              "the durable-stashd executable"
    end
  end

  defp prepare_store!("file:" <> dir), do: File.mkdir_p!(dir)
  defp prepare_store!(_store), do: :ok

  defp await_listening(state, deadline, output) do
    port = state.port

    receive do
      {^port, {:data, {_eol, line}}} ->
        log_line(line)

        case listening_address(line) do
          nil -> await_listening(state, deadline, [line | output])
          endpoint -> {:ok, endpoint}
        end

      {^port, {:exit_status, status}} ->
        {:error,
         "durable-stashd exited with status #{status} before listening; its output:\n" <>
           Enum.join(Enum.reverse(output), "\n")}
    after
      max(deadline - System.monotonic_time(:millisecond), 0) ->
        {:error, "durable-stashd did not start listening in time"}
    end
  end

  # The daemon logs `... event=listening addr=127.0.0.1:PORT ...` once it accepts connections.
  defp listening_address(line) do
    fields = String.split(line, " ")

    with true <- "event=listening" in fields,
         "addr=" <> address <- Enum.find(fields, &String.starts_with?(&1, "addr=")),
         [port, host] <- address |> String.split(":") |> Enum.reverse() |> Enum.take(2),
         {port, ""} <- Integer.parse(port) do
      {String.to_charlist(host), port}
    else
      _ -> nil
    end
  end

  defp ping(endpoint, token, deadline) do
    timeout = max(deadline - System.monotonic_time(:millisecond), 1)
    commands = if token, do: [["AUTH", token], ["PING"]], else: [["PING"]]

    case Connection.exchange(endpoint, commands, timeout) do
      {:ok, replies} ->
        if List.last(replies) == "PONG",
          do: :ok,
          else: {:error, "durable-stashd answered PING with #{inspect(replies)}"}

      {:error, reason} ->
        {:error, "durable-stashd did not answer PING: #{inspect(reason)}"}
    end
  end

  # --- running --------------------------------------------------------------------------

  defp log_line(line) do
    cond do
      String.contains?(line, "level=error") -> Logger.error("durable-stashd: " <> line)
      String.contains?(line, "level=warn") -> Logger.warning("durable-stashd: " <> line)
      true -> Logger.debug("durable-stashd: " <> line)
    end
  end

  # --- stopping -------------------------------------------------------------------------

  defp stop_daemon(%{port: nil}), do: :ok

  defp stop_daemon(%{port: port} = state) do
    # A line on stdin makes the wrapper send SIGTERM; the daemon flushes and exits, and the
    # wrapper exits with its status.
    Port.command(port, "stop\n")

    receive do
      {^port, {:exit_status, _status}} -> :ok
    after
      state.stop_timeout ->
        Logger.error(
          "DurableStash: the embedded durable-stashd did not stop within " <>
            "#{state.stop_timeout} ms; it keeps flushing in the background"
        )

        Port.close(port)
    end

    :ok
  catch
    # The port is already closed.
    :error, :badarg -> :ok
  end
end
