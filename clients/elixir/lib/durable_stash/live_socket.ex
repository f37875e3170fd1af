defmodule DurableStash.LiveSocket do
  @moduledoc """
  Every call the adapter makes into Phoenix LiveView, in one place.

  The adapter touches a LiveView socket only through these functions, which use nothing but
  `Phoenix.LiveView.connected?/1`, `Phoenix.LiveView.get_connect_params/1`,
  `Phoenix.LiveView.put_private/3`, `Phoenix.Component.assign/2` and the socket's
  `assigns`, `private` and `view` fields. Keeping the surface this small keeps the test
  stand-ins for Phoenix tiny and faithful.
  """

  # Phoenix LiveView is a dependency of the host application (and of LiveStash), not
  # something this package compiles against: where it is absent at compile time (this
  # repository's tests, which bring stand-ins) the calls below would warn "undefined module".
  # The calls are resolved at runtime, so that warning is silenced for exactly these modules.
  @compile {:no_warn_undefined, [Phoenix.LiveView, Phoenix.Component]}

  @typedoc "A `Phoenix.LiveView.Socket`."
  @type socket :: %{assigns: map(), private: map(), view: module()}

  @typedoc "How this mount of the view came about (SPEC §3, docs/PROTOCOL.md)."
  @type mount :: :dead | :fresh | :rejoin

  @doc """
  The mount kind: `:dead` for the HTTP render, `:fresh` for a connected mount that starts a
  page (`_mounts` is 0), `:rejoin` when the same page reconnects (`_mounts` > 0).

  Must be called during mount, where the connect params are readable. A connected mount
  without a `_mounts` param (a client that does not send it) counts as `:fresh`.
  """
  @spec mount_kind(socket()) :: mount()
  def mount_kind(socket) do
    if Phoenix.LiveView.connected?(socket) do
      case Phoenix.LiveView.get_connect_params(socket) do
        %{"_mounts" => mounts} when is_integer(mounts) and mounts > 0 -> :rejoin
        _ -> :fresh
      end
    else
      :dead
    end
  end

  @doc "The view's name as the daemon knows it, e.g. `\"Elixir.MyAppWeb.CounterLive\"`."
  @spec view_name(socket()) :: String.t()
  def view_name(socket), do: Atom.to_string(socket.view)

  @doc "The socket's assigns."
  @spec assigns(socket()) :: map()
  def assigns(socket), do: socket.assigns

  @doc "Sets assigns, marking the changed ones for re-render."
  @spec assign(socket(), map() | keyword()) :: socket()
  def assign(socket, assigns), do: Phoenix.Component.assign(socket, assigns)

  @doc "Reads a private value of the socket."
  @spec get_private(socket(), atom()) :: term()
  def get_private(socket, key), do: Map.get(socket.private, key)

  @doc "Stores a private value in the socket."
  @spec put_private(socket(), atom(), term()) :: socket()
  def put_private(socket, key, value), do: Phoenix.LiveView.put_private(socket, key, value)
end
