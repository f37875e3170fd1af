defmodule DurableStash.Pool do
  @moduledoc """
  The connections to one daemon: `size` `DurableStash.Connection` processes under one
  supervisor, registered in the client's registry as `{daemon, index}`.

  A few pipelined connections are enough for one daemon: each carries many requests in
  flight, and several keep one slow reply from holding up everything behind it. The client
  picks the connection by the session key, so every request for one session travels the
  same connection, in order.
  """

  use Supervisor

  alias DurableStash.Connection

  @typedoc """
  Options: `:registry`, `:daemon` (the address as configured), `:endpoint` (see
  `t:DurableStash.Connection.endpoint/0`), `:size`, `:auth_token`, `:timeout`.
  """
  @type option ::
          {:registry, atom()}
          | {:daemon, String.t()}
          | {:endpoint, Connection.endpoint()}
          | {:size, pos_integer()}
          | {:auth_token, nil | String.t()}
          | {:timeout, pos_integer()}

  @doc "Starts the connections to one daemon."
  @spec start_link([option()]) :: Supervisor.on_start()
  def start_link(opts), do: Supervisor.start_link(__MODULE__, opts)

  @doc "A child spec whose id is the daemon, so one client can supervise a pool per daemon."
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: {__MODULE__, Keyword.fetch!(opts, :daemon)},
      start: {__MODULE__, :start_link, [opts]},
      type: :supervisor
    }
  end

  @doc "The name under which connection `index` of `daemon` is registered in `registry`."
  @spec via(atom(), String.t(), non_neg_integer()) :: {:via, Registry, {atom(), term()}}
  def via(registry, daemon, index), do: {:via, Registry, {registry, {daemon, index}}}

  @impl true
  def init(opts) do
    registry = Keyword.fetch!(opts, :registry)
    daemon = Keyword.fetch!(opts, :daemon)

    connection_opts = Keyword.take(opts, [:daemon, :endpoint, :auth_token, :timeout])

    children =
      for index <- 0..(Keyword.fetch!(opts, :size) - 1) do
        Supervisor.child_spec(
          {Connection, [name: via(registry, daemon, index)] ++ connection_opts},
          id: {Connection, index}
        )
      end

    Supervisor.init(children, strategy: :one_for_one)
  end
end
