defmodule DurableStash.Client do
  @moduledoc """
  The client: connections to the configured daemons, and routing of each session to one of
  them.

  `DurableStash.child_spec/1` starts it (LiveStash does that for you); it reads
  `config :durable_stash` (see `DurableStash.Options.config!/1`). Under one supervisor it
  runs a `Registry` that names the connections and holds the routing table, the embedded
  daemon when `daemons: :embedded`, and one `DurableStash.Pool` per daemon.

  A session goes to the daemon chosen by rendezvous hashing of its session key
  (`DurableStash.Rendezvous`), and within that daemon's pool to the connection chosen by the
  same key, so all requests of one session are sent in order on one connection.
  """

  use Supervisor

  alias DurableStash.{Connection, Embedded, Error, Options, Pool, Protocol, Rendezvous}

  @embedded "embedded"

  @typedoc "Options for a request: `:client` (the client's name) and `:timeout` (ms)."
  @type request_option :: {:client, atom()} | {:timeout, pos_integer()}

  @doc """
  A child spec for the client. `opts` override `config :durable_stash` key by key; `:name`
  (default `DurableStash.Client`) names the client, so that tests can run several.
  """
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :name, __MODULE__),
      start: {__MODULE__, :start_link, [opts]},
      type: :supervisor
    }
  end

  @doc "Starts the client (see `child_spec/1`)."
  @spec start_link(keyword()) :: Supervisor.on_start()
  def start_link(opts \\ []) do
    {name, opts} = Keyword.pop(opts, :name, __MODULE__)
    config = Options.config!(Keyword.merge(Application.get_all_env(:durable_stash), opts))
    Supervisor.start_link(__MODULE__, {name, config}, name: name)
  end

  @doc """
  Sends one command for `session_key` and returns its reply; an error reply of the daemon
  comes back as `{:error, %DurableStash.Error{}}`.
  """
  @spec command(binary(), [binary() | integer()], [request_option()]) ::
          {:ok, Protocol.reply()} | {:error, Error.t()}
  def command(session_key, command, opts \\ []) do
    case pipeline(session_key, [command], opts) do
      {:ok, [%Error{} = error]} -> {:error, error}
      {:ok, [reply]} -> {:ok, reply}
      {:error, error} -> {:error, error}
    end
  end

  @doc """
  Sends several commands for `session_key` in one round trip and returns their replies in
  order (an error reply is a `DurableStash.Error` in the list).
  """
  @spec pipeline(binary(), [[binary() | integer()]], [request_option()]) ::
          {:ok, [Protocol.reply()]} | {:error, Error.t()}
  def pipeline(session_key, [_ | _] = commands, opts \\ []) do
    client = Keyword.get(opts, :client, __MODULE__)

    with {:ok, routes} <- routes(client) do
      daemon = Rendezvous.owner(routes.daemons, session_key)
      index = :erlang.phash2(session_key, routes.pool_size)
      timeout = Keyword.get(opts, :timeout, routes.timeout)

      result =
        case Registry.lookup(registry(client), {daemon, index}) do
          [{pid, _}] -> Connection.request(pid, commands, timeout)
          [] -> {:error, Error.client(:disconnected, "the connection is restarting")}
        end

      with {:error, %Error{kind: kind} = error} when is_atom(kind) <- result do
        {:error, %{error | message: "daemon #{daemon}: #{error.message}"}}
      end
    end
  end

  @doc """
  The daemon (its address as configured, or `"embedded"`) that owns `session_key`.
  """
  @spec owner(binary(), [request_option()]) :: {:ok, String.t()} | {:error, Error.t()}
  def owner(session_key, opts \\ []) do
    with {:ok, routes} <- routes(Keyword.get(opts, :client, __MODULE__)) do
      {:ok, Rendezvous.owner(routes.daemons, session_key)}
    end
  end

  defp routes(client) do
    case Registry.meta(registry(client), :routes) do
      {:ok, routes} -> {:ok, routes}
      :error -> not_started(client)
    end
  rescue
    # The registry's table does not exist: the client is not running.
    ArgumentError -> not_started(client)
  end

  defp not_started(client) do
    {:error,
     Error.client(
       :not_started,
       "#{inspect(client)} is not running: list DurableStash in config :live_stash, " <>
         "adapters: [...] (LiveStash then starts it), or start DurableStash.child_spec([])"
     )}
  end

  defp registry(client), do: Module.concat(client, "Registry")

  @impl true
  def init({name, config}) do
    registry = registry(name)
    daemons = daemons(name, config)

    routes = %{
      daemons: Enum.map(daemons, &elem(&1, 0)),
      pool_size: config.pool_size,
      timeout: config.timeout
    }

    pools =
      for {daemon, endpoint} <- daemons do
        {Pool,
         registry: registry,
         daemon: daemon,
         endpoint: endpoint,
         size: config.pool_size,
         auth_token: config.auth_token,
         timeout: config.timeout}
      end

    children =
      [{Registry, keys: :unique, name: registry, meta: [routes: routes]}] ++
        embedded(name, config) ++ pools

    # rest_for_one: if the embedded daemon restarts, its pool restarts after it.
    Supervisor.init(children, strategy: :rest_for_one)
  end

  defp daemons(name, %{daemons: :embedded}),
    do: [{@embedded, {Embedded, :endpoint, [embedded_name(name)]}}]

  defp daemons(_name, %{daemons: daemons}),
    do: for({address, host, port} <- daemons, do: {address, {host, port}})

  defp embedded(name, %{daemons: :embedded} = config) do
    store =
      case config.data_dir do
        :memory -> "memory:"
        dir -> "file:" <> Path.expand(dir)
      end

    [
      {Embedded,
       name: embedded_name(name),
       path: config.daemon_path,
       store: store,
       auth_token: config.auth_token}
    ]
  end

  defp embedded(_name, _config), do: []

  defp embedded_name(name), do: Module.concat(name, "Embedded")
end
