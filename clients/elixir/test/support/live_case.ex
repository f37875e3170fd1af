defmodule DurableStash.LiveCase do
  @moduledoc """
  Tests of the adapter through LiveView mounts: a daemon and a client per test, and
  helpers that mount a view the way Phoenix does (on_mount hooks, then `mount/3`, then the
  connect params are pruned) for each mount kind.
  """

  use ExUnit.CaseTemplate

  alias DurableStash.{Client, SessionKey, TestDaemon}
  alias Phoenix.LiveView.Socket

  using do
    quote do
      import DurableStash.LiveCase
      alias DurableStash.TestDaemon
    end
  end

  setup tags do
    if tags[:daemon] == false do
      :ok
    else
      {daemon_id, address, daemon} = TestDaemon.start()
      start_supervised!({Client, daemons: [address], pool_size: 2, timeout: 1_000})
      %{address: address, daemon: daemon, daemon_id: daemon_id, session: new_session()}
    end
  end

  @doc "A cookie session with a fresh sid."
  def new_session, do: %{"sid" => DurableStash.Plug.new_sid()}

  @doc "The session key the adapter derives for `session`."
  def session_key(%{"sid" => sid}),
    do: SessionKey.derive(Application.fetch_env!(:durable_stash, :secret), sid)

  @doc """
  Mounts `view` as Phoenix would for a mount of `kind` (`:dead`, `:fresh` or `:rejoin`) and
  returns the socket after `mount/3`.
  """
  def mount(view, session, kind) do
    {transport_pid, params} =
      case kind do
        :dead -> {nil, %{}}
        :fresh -> {self(), %{"_mounts" => 0}}
        :rejoin -> {self(), %{"_mounts" => 2}}
      end

    socket = %Socket{view: view, transport_pid: transport_pid, private: %{connect_params: params}}

    socket =
      Enum.reduce(view.__live__().lifecycle.mount, socket, fn {module, arg}, socket ->
        {:cont, socket} = module.on_mount(arg, :not_mounted_at_router, session, socket)
        socket
      end)

    {:ok, socket} = view.mount(:not_mounted_at_router, session, socket)
    %{socket | private: Map.delete(socket.private, :connect_params)}
  end

  @doc "Assigns and stashes, as a handle_event would."
  def set(socket, assigns) do
    socket |> Phoenix.Component.assign(assigns) |> LiveStash.stash()
  end

  @doc """
  What the daemon at `address` holds for `keys` of `view` in `session`, read on a raw
  connection (not through the adapter): `{status, stored_vsn, %{"key" => value}}`. It asks
  with mount `dead` and scope `session` for every key, which neither clears nor skips any.
  """
  def stored(address, session, view, keys, vsn \\ 1) do
    request =
      ["DS.RECOVER", session_key(session), Atom.to_string(view), vsn, "dead"] ++
        Enum.flat_map(keys, &[Atom.to_string(&1), "session"])

    [_ok, [status, stored_vsn | pairs]] = TestDaemon.raw(address, [["DS.CODEC", "ETF"], request])

    values =
      pairs
      |> Enum.chunk_every(2)
      |> Map.new(fn [name, value] -> {name, :erlang.binary_to_term(value)} end)

    {status, stored_vsn, values}
  end
end
