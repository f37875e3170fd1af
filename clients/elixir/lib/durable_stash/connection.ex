defmodule DurableStash.Connection do
  @moduledoc """
  One pipelined TCP connection to one daemon.

  Callers send whole pipelines (`request/3`); the connection writes them to the socket at
  once, without waiting for earlier replies, and queues the caller. The daemon answers in
  request order, so each reply belongs to the caller at the head of the queue.

  On connect it sends `AUTH token` (when a token is configured) and `DS.CODEC ETF`, so values
  travel as Erlang terms. When the connection drops, every waiting caller gets an error at
  once and the process reconnects in the background with exponential backoff (100 ms doubling
  to 5 s, with jitter); while it is down, requests fail immediately with `:disconnected`
  instead of piling up. Each request has its own timeout, enforced in the caller.
  """

  use GenServer

  require Logger

  alias DurableStash.{Error, Protocol}

  @backoff_first 100
  @backoff_max 5_000

  @typedoc """
  Where the daemon is: `{host, port}`, or `{module, function, args}` called before every
  connection attempt to get it (the embedded daemon's port is known only once it runs).
  """
  @type endpoint :: {charlist(), :inet.port_number()} | {module(), atom(), list()}

  @typedoc """
  Options: `:daemon` (its address as configured, for logs), `:endpoint`, `:auth_token`,
  `:timeout` (for connecting and the handshake, ms) and `:name`.
  """
  @type option ::
          {:daemon, String.t()}
          | {:endpoint, endpoint()}
          | {:auth_token, nil | String.t()}
          | {:timeout, pos_integer()}
          | {:name, GenServer.name()}

  defstruct [
    :daemon,
    :endpoint,
    :auth_token,
    :timeout,
    :socket,
    continuation: &Protocol.parse/1,
    waiting: :queue.new(),
    backoff: @backoff_first,
    down_since_logged?: false
  ]

  @doc "Starts a connection; it connects in the background."
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts) do
    GenServer.start_link(__MODULE__, opts, Keyword.take(opts, [:name]))
  end

  @doc """
  Sends `commands` (each a list of arguments) as one pipeline and returns their replies in
  order. An error reply of one command is a `DurableStash.Error` in the list; `{:error, _}`
  means the pipeline as a whole got no answer.

  The timeout is enforced here, in the caller: since OTP 24 a reply that arrives after it is
  dropped by the runtime, so a late answer never lands in the caller's mailbox.
  """
  @spec request(GenServer.server(), [[binary() | integer()]], timeout()) ::
          {:ok, [Protocol.reply()]} | {:error, Error.t()}
  def request(conn, [_ | _] = commands, timeout) do
    GenServer.call(conn, {:request, commands}, timeout)
  catch
    :exit, {:timeout, _} ->
      {:error, Error.client(:timeout, "no reply within #{timeout} ms")}

    :exit, {reason, _} when reason in [:noproc, :normal, :shutdown] ->
      {:error, Error.client(:disconnected, "the connection is restarting")}

    :exit, {{:shutdown, _}, _} ->
      {:error, Error.client(:disconnected, "the connection is restarting")}

    :exit, _ ->
      {:error, Error.client(:closed, "the connection stopped while waiting for a reply")}
  end

  @doc """
  A one-off exchange: connects to `{host, port}`, sends `commands`, returns their replies
  and closes. For checks outside the pool, such as whether a daemon answers `PING`.
  """
  @spec exchange({charlist(), :inet.port_number()}, [[binary() | integer()]], timeout()) ::
          {:ok, [Protocol.reply()]} | {:error, term()}
  def exchange({host, port}, [_ | _] = commands, timeout) do
    with {:ok, socket} <- :gen_tcp.connect(host, port, [:binary, active: false], timeout) do
      try do
        with :ok <- :gen_tcp.send(socket, Enum.map(commands, &Protocol.pack/1)),
             {:ok, replies, _rest} <- receive_replies(socket, length(commands), timeout) do
          {:ok, replies}
        end
      after
        :gen_tcp.close(socket)
      end
    end
  end

  # --- process --------------------------------------------------------------------------

  @impl true
  def init(opts) do
    state = %__MODULE__{
      daemon: Keyword.fetch!(opts, :daemon),
      endpoint: Keyword.fetch!(opts, :endpoint),
      auth_token: Keyword.get(opts, :auth_token),
      timeout: Keyword.fetch!(opts, :timeout)
    }

    # Connect after init returns, so that a daemon that is down never stops the application
    # from starting; requests sent meanwhile wait in the mailbox for the first attempt.
    {:ok, state, {:continue, :connect}}
  end

  @impl true
  def handle_continue(:connect, state), do: {:noreply, connect(state)}

  @impl true
  def handle_call({:request, _commands}, _from, %{socket: nil} = state) do
    {:reply, {:error, Error.client(:disconnected, "not connected")}, state}
  end

  def handle_call({:request, commands}, from, state) do
    case :gen_tcp.send(state.socket, Enum.map(commands, &Protocol.pack/1)) do
      :ok ->
        waiting = :queue.in({from, length(commands), []}, state.waiting)
        {:noreply, %{state | waiting: waiting}}

      {:error, reason} ->
        GenServer.reply(from, {:error, Error.client(:closed, "send failed: #{inspect(reason)}")})
        {:noreply, disconnect(state, reason)}
    end
  end

  @impl true
  def handle_info({:tcp, socket, data}, %{socket: socket} = state) do
    state = consume(state, state.continuation.(data))
    :ok = :inet.setopts(socket, active: :once)
    {:noreply, state}
  rescue
    error in Error -> {:noreply, disconnect(state, error.message)}
  end

  def handle_info({:tcp_closed, socket}, %{socket: socket} = state),
    do: {:noreply, disconnect(state, :closed)}

  def handle_info({:tcp_error, socket, reason}, %{socket: socket} = state),
    do: {:noreply, disconnect(state, reason)}

  def handle_info(:reconnect, %{socket: nil} = state), do: {:noreply, connect(state)}

  # Messages of a socket that is already closed, or a stray timer.
  def handle_info(_message, state), do: {:noreply, state}

  # --- replies --------------------------------------------------------------------------

  defp consume(state, {:continuation, continuation}), do: %{state | continuation: continuation}

  defp consume(state, {:ok, reply, rest}) do
    state
    |> deliver(reply)
    |> consume(Protocol.parse(rest))
  end

  defp deliver(state, reply) do
    case :queue.out(state.waiting) do
      {{:value, {from, 1, acc}}, waiting} ->
        GenServer.reply(from, {:ok, Enum.reverse([reply | acc])})
        %{state | waiting: waiting}

      {{:value, {from, left, acc}}, waiting} ->
        %{state | waiting: :queue.in_r({from, left - 1, [reply | acc]}, waiting)}

      {:empty, _} ->
        raise Error.client(:protocol, "a reply arrived that nobody asked for")
    end
  end

  # --- connecting -----------------------------------------------------------------------

  defp connect(state) do
    case open(state) do
      {:ok, socket} ->
        if state.down_since_logged?,
          do: Logger.info("DurableStash: connected to daemon #{state.daemon} again")

        %{state | socket: socket, backoff: @backoff_first, down_since_logged?: false}

      {:error, reason} ->
        state |> log_down(reason) |> schedule_reconnect()
    end
  end

  defp open(state) do
    with {:ok, {host, port}} <- endpoint(state.endpoint),
         {:ok, socket} <- :gen_tcp.connect(host, port, socket_options(state), state.timeout) do
      case handshake(socket, state) do
        :ok ->
          :ok = :inet.setopts(socket, active: :once)
          {:ok, socket}

        {:error, reason} ->
          :gen_tcp.close(socket)
          {:error, reason}
      end
    end
  end

  defp endpoint({host, port}), do: {:ok, {host, port}}

  defp endpoint({module, function, args}) do
    apply(module, function, args)
  catch
    :exit, _ -> {:error, :daemon_not_running}
  end

  defp socket_options(state) do
    # send_timeout bounds a write to a daemon that stopped reading; the caller's own timeout
    # bounds the wait for the reply.
    [:binary, active: false, nodelay: true, keepalive: true] ++
      [send_timeout: state.timeout, send_timeout_close: true]
  end

  defp handshake(socket, state) do
    commands =
      if state.auth_token,
        do: [["AUTH", state.auth_token], ["DS.CODEC", "ETF"]],
        else: [["DS.CODEC", "ETF"]]

    with :ok <- :gen_tcp.send(socket, Enum.map(commands, &Protocol.pack/1)),
         {:ok, replies, ""} <- receive_replies(socket, length(commands), state.timeout) do
      case Enum.find(replies, &match?(%Error{}, &1)) do
        nil -> :ok
        %Error{} = error -> {:error, handshake_error(error)}
      end
    else
      {:ok, _replies, _more} -> {:error, "the daemon sent more than was asked for"}
      {:error, reason} -> {:error, reason}
    end
  end

  # Reads `count` replies from a passive socket; returns them and the bytes after them.
  defp receive_replies(socket, count, timeout) do
    receive_replies(socket, count, &Protocol.parse/1, [], timeout)
  rescue
    error in Error -> {:error, error.message}
  end

  defp receive_replies(socket, count, continuation, acc, timeout) do
    with {:ok, data} <- :gen_tcp.recv(socket, 0, timeout) do
      parse_replies(socket, count, continuation.(data), acc, timeout)
    end
  end

  defp parse_replies(socket, count, {:continuation, continuation}, acc, timeout),
    do: receive_replies(socket, count, continuation, acc, timeout)

  defp parse_replies(socket, count, {:ok, reply, rest}, acc, timeout) do
    case count - 1 do
      0 -> {:ok, Enum.reverse([reply | acc]), rest}
      left -> parse_replies(socket, left, Protocol.parse(rest), [reply | acc], timeout)
    end
  end

  defp handshake_error(%Error{kind: "NOAUTH"}),
    do: "the daemon requires a token: set auth_token in config :durable_stash"

  defp handshake_error(%Error{kind: "WRONGPASS"}),
    do: "the daemon refused the auth_token in config :durable_stash"

  defp handshake_error(%Error{message: message}), do: message

  # --- disconnecting --------------------------------------------------------------------

  defp disconnect(state, reason) do
    Logger.warning(
      "DurableStash: lost the connection to daemon #{state.daemon} (#{format(reason)}); " <>
        "reconnecting"
    )

    :gen_tcp.close(state.socket)
    error = Error.client(:closed, "the connection closed (#{format(reason)})")

    state.waiting
    |> :queue.to_list()
    |> Enum.each(fn {from, _left, _acc} -> GenServer.reply(from, {:error, error}) end)

    # Try again at once: most drops are a daemon restart, and the first attempt is cheap.
    send(self(), :reconnect)

    %{
      state
      | socket: nil,
        waiting: :queue.new(),
        continuation: &Protocol.parse/1,
        down_since_logged?: true
    }
  end

  defp log_down(%{down_since_logged?: true} = state, reason) do
    Logger.debug("DurableStash: daemon #{state.daemon} still unreachable (#{format(reason)})")
    state
  end

  defp log_down(state, reason) do
    Logger.warning(
      "DurableStash: cannot reach daemon #{state.daemon} (#{format(reason)}); retrying in " <>
        "the background, meanwhile recover_state returns :error and stash logs"
    )

    %{state | down_since_logged?: true}
  end

  defp schedule_reconnect(state) do
    # Half of each delay is random, so that many Phoenix nodes do not reconnect in step.
    delay = div(state.backoff, 2) + :rand.uniform(div(state.backoff, 2) + 1)
    Process.send_after(self(), :reconnect, delay)
    %{state | backoff: min(state.backoff * 2, @backoff_max)}
  end

  defp format(reason) when is_binary(reason), do: reason
  defp format(:closed), do: "closed by the daemon"
  defp format(:timeout), do: "timed out"
  defp format(:daemon_not_running), do: "the embedded daemon is not running"

  defp format(reason) when is_atom(reason) do
    case :inet.format_error(reason) do
      ~c"unknown POSIX error" -> inspect(reason)
      text -> to_string(text)
    end
  end

  defp format(reason), do: inspect(reason)
end
