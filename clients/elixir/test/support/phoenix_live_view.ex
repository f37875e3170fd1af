# Test stand-ins for the few Phoenix LiveView functions DurableStash calls (the list is in
# DurableStash.LiveSocket and shared/reference/livestash.md). Phoenix cannot be installed
# here; these follow the documented behaviour of the real functions and nothing more.

defmodule Phoenix.LiveView.Socket do
  @moduledoc "Stand-in: the fields of `%Phoenix.LiveView.Socket{}` that DurableStash reads."
  defstruct assigns: %{__changed__: %{}}, private: %{}, view: nil, transport_pid: nil
end

defmodule Phoenix.LiveView do
  @moduledoc """
  Stand-in for `Phoenix.LiveView`: `connected?/1`, `get_connect_params/1`, `put_private/3`,
  and `use Phoenix.LiveView` with `on_mount/1`, which records hooks for `__live__/0`.
  """

  alias Phoenix.LiveView.Socket

  defmacro __using__(_opts) do
    quote do
      import Phoenix.LiveView, only: [on_mount: 1]
      Module.register_attribute(__MODULE__, :phoenix_live_mount, accumulate: true)
      @before_compile Phoenix.LiveView
    end
  end

  defmacro __before_compile__(_env) do
    quote do
      # Like the real macro, the hooks (and so LiveStash's options) are escaped into the
      # module: options that are not plain data fail to compile here.
      def __live__, do: %{lifecycle: %{mount: Enum.reverse(@phoenix_live_mount)}}
    end
  end

  @doc "Registers an on_mount hook `{module, arg}` or `module`."
  defmacro on_mount(mod_or_mod_arg) do
    quote do
      @phoenix_live_mount unquote(mod_or_mod_arg)
    end
  end

  @doc "True when the socket has a transport (a WebSocket mount), false on the dead render."
  def connected?(%Socket{transport_pid: transport_pid}), do: transport_pid != nil

  @doc """
  The connect params while mounting a connected socket, nil on the dead render; raises
  outside mount (the params are pruned from the socket after mount).
  """
  def get_connect_params(%Socket{private: private} = socket) do
    if connect_params = private[:connect_params] do
      if connected?(socket), do: connect_params, else: nil
    else
      raise RuntimeError,
            "attempted to read connect_params outside of #{inspect(socket.view)}.mount/3"
    end
  end

  @doc "Stores `value` under `key` in `socket.private`."
  def put_private(%Socket{private: private} = socket, key, value) when is_atom(key) do
    %{socket | private: Map.put(private, key, value)}
  end
end

defmodule Phoenix.Component do
  @moduledoc "Stand-in for `Phoenix.Component.assign/2`."

  alias Phoenix.LiveView.Socket

  @doc """
  Sets each assign; a key whose value changed is marked in `assigns.__changed__` (when that
  is a map), so LiveView would re-render it. An unchanged value is not marked.
  """
  def assign(%Socket{} = socket, keyword_or_map)
      when is_map(keyword_or_map) or is_list(keyword_or_map) do
    Enum.reduce(keyword_or_map, socket, fn {key, value}, socket ->
      case socket.assigns do
        %{^key => ^value} ->
          socket

        assigns ->
          changed =
            case assigns do
              %{__changed__: changed} when is_map(changed) -> Map.put(changed, key, true)
              _ -> assigns[:__changed__]
            end

          %{socket | assigns: assigns |> Map.put(key, value) |> Map.put(:__changed__, changed)}
      end
    end)
  end
end
