"""Sign-in, sign-out and session strings."""

MESSAGES: dict[str, tuple[str, str]] = {
    "auth.heading": ("登录理赔案件分级管理平台", "Sign in to tiered claim case management"),
    "auth.username": ("用户名", "User name"),
    "auth.password": ("密码", "Password"),
    "auth.submit": ("登录", "Sign in"),
    "auth.sign_out": ("退出登录", "Sign out"),
    "auth.bad_credentials": ("用户名或密码错误，请检查后重新输入。", "Wrong user name or password: check both and try again."),
    "auth.missing_fields": ("请填写用户名和密码。", "Enter both your user name and your password."),
    "auth.inactive": ("该账号已停用，请联系总公司分级案件管理责任人。", "This account is disabled: ask the HQ tier administrator."),
    "auth.expired": ("您已长时间未操作，已自动退出，请重新登录。", "You were signed out after a period of inactivity: sign in again."),
    "auth.signed_in_as": ("当前用户：{name}", "Signed in as {name}"),
    "auth.roles": ("角色：{roles}", "Roles: {roles}"),
    "auth.no_roles": ("该账号尚未分配角色，请联系管理员。", "This account has no role yet: ask the administrator."),
    "home.welcome": ("{name}，您好", "Hello, {name}"),
    "home.intro": ("从左侧导航进入您的工作页面。", "Open your work pages from the navigation on the left."),
    "home.your_units": ("所属机构：{units}", "Your units: {units}"),
    "home.kpi.pending_tiered": ("未决分级案件", "Pending tiered cases"),
    "home.kpi.pending_all": ("未决案件", "Pending cases"),
    "home.kpi.cases_visible": ("可见案件总数", "Cases you can see"),
    "home.kpi.pending_amount": ("未决分级案件估损", "Pending tiered estimate"),
}
